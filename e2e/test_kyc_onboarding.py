"""Journey: a teller onboards a new customer through every KYC step (personal
details, identity documents with a photograph, signature and scans, address,
declarations, review), leaving the draft half-way and resuming it from KYC
drafts; a supervisor, in a browser of their own, checks the documents beside
the entered data and verifies the KYC. And the refusal: a supervisor rejects a
KYC, and the teller reads the reason in My requests, customer 360 and the wizard."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from banking.core.identifiers import with_check_digit
from banking.customers import actions
from banking.customers.models import Customer
from banking.customers.samples import sample_pdf, sample_png
from banking.customers.tests.factories import make_complete_draft
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

PAN = "AQMPN4821K"
AADHAAR = with_check_digit("49731862051")


def png(name, width, height, rgb=(11, 61, 110)):
    return {"name": name, "mimeType": "image/png", "buffer": sample_png(width, height, rgb)}


def pdf(name, text):
    return {"name": name, "mimeType": "application/pdf", "buffer": sample_pdf(text)}


@pytest.fixture
def branch(transactional_db):
    return make_branch(name="Fort, Mumbai")


@pytest.fixture
def teller(branch):
    return named(make_user(Role.TELLER, branch=branch), "Asha", "Kulkarni")


@pytest.fixture
def supervisor(branch):
    return named(make_user(Role.SUPERVISOR, branch=branch, approval_limit=10_00_000_00), "Sunil", "Deshmukh")


def value_of(scope, label):
    """The value shown for `label` in a list of details (<dt>label</dt><dd>value</dd>)."""
    return scope.locator("dt", has_text=re.compile(f"^{re.escape(label)}$")).locator("xpath=following-sibling::dd[1]")


def step_heading(page, name):
    return page.get_by_role("heading", name=name, level=2)


def test_teller_onboards_resumes_and_supervisor_verifies(page, browser, browser_context_args, teller, supervisor):
    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, teller)
    page.get_by_role("link", name="Customers").first.click()
    page.get_by_role("link", name="New customer").click()

    # 1. Personal details, with a date of birth in the future first.
    expect(page.get_by_role("list", name="KYC steps")).to_be_visible()
    page.get_by_label("First name").fill("Nandini")
    page.get_by_label("Last name").fill("Rao")
    page.get_by_label("Date of birth").fill((datetime.date.today() + datetime.timedelta(days=3)).isoformat())
    page.get_by_label("Mobile number").fill("98200 44556")
    page.get_by_label("Email").fill("nandini.rao@example.in")
    page.get_by_label("Occupation").fill("Doctor")
    page.get_by_label("Annual income").select_option(label="₹25 lakh – ₹1 crore")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text("The date of birth cannot be in the future.")).to_be_visible()
    assert not Customer.objects.exists()
    page.get_by_label("Date of birth").fill("1984-02-29")
    page.get_by_role("button", name="Save and continue").click()

    # 2. Identity documents: numbers first, then leave for later.
    expect(step_heading(page, "Identity documents")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/kyc/identity/$"))
    expect(page.get_by_text("Personal details saved to the draft.")).to_be_visible()
    customer = Customer.objects.get()
    page.get_by_role("textbox", name=re.compile(r"^PAN")).fill(PAN)
    page.get_by_label("Aadhaar number").fill("2345 6789 0123")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_text(re.compile("This is not a valid Aadhaar number"))).to_be_visible()
    assert not customer.identity_documents.exists()
    page.get_by_label("Aadhaar number").fill(AADHAAR)
    page.get_by_role("button", name="Save and finish later").click()

    # Later: the draft waits in KYC drafts and resumes where it was left.
    expect(page).to_have_url(re.compile(r"/teller/customers/drafts/"))
    expect(page.get_by_text(re.compile("Saved the KYC draft of Nandini Rao"))).to_be_visible()
    screenshot(page, "kyc-drafts-1280")
    page.get_by_role("link", name="Resume the KYC of Nandini Rao").click()
    expect(step_heading(page, "Identity documents")).to_be_visible()
    expect(page.get_by_test_id("identities")).to_contain_text(f"XXXX-XXXX-{AADHAAR[-4:]}")
    expect(page.get_by_text(PAN)).to_have_count(0)
    page.get_by_label("Photograph").set_input_files(png("nandini.png", 90, 110))
    page.get_by_label("Specimen signature").set_input_files(png("signature.png", 160, 50, (235, 235, 235)))
    page.get_by_label(re.compile("Proof of identity")).set_input_files(pdf("pan-card.pdf", "PAN card"))
    screenshot(page, "kyc-identity-1280")
    page.get_by_role("button", name="Save and continue").click()

    # 3. Address.
    expect(step_heading(page, "Address")).to_be_visible()
    page.get_by_label("House, building and street").first.fill("7 Gulmohar Lane")
    page.get_by_label("Area or locality").first.fill("Juhu")
    page.get_by_label("City").first.fill("Mumbai")
    page.get_by_label("State").first.select_option("Maharashtra")
    page.get_by_label("PIN code").first.fill("400049")
    page.get_by_label("Upload a proof of address").set_input_files(pdf("electricity-bill.pdf", "Electricity bill"))
    page.get_by_role("button", name="Save and continue").click()

    # 4. Declarations.
    expect(step_heading(page, "Declarations")).to_be_visible()
    page.get_by_label("The customer has read and signed these declarations").check()
    screenshot(page, "kyc-declarations-1280")
    page.get_by_role("button", name="Save and continue").click()

    # 5. Review and submit.
    expect(step_heading(page, "Review and submit")).to_be_visible()
    review = page.get_by_test_id("kyc-review")
    expect(value_of(review, "Name")).to_have_text("Nandini Rao")
    expect(value_of(review, "PAN")).to_have_text("AQXXX4XX1K")
    expect(value_of(review, "Aadhaar")).to_have_text(f"XXXX-XXXX-{AADHAAR[-4:]}")
    expect(page.get_by_test_id("kyc-documents").get_by_role("listitem")).to_have_count(4)
    screenshot(page, "kyc-review-1280")
    page.get_by_role("button", name="Submit for verification").click()

    expect(page).to_have_url(re.compile(rf"/teller/customers/{customer.pk}/$"))
    expect(page.get_by_text(re.compile("is waiting for a supervisor's verification"))).to_be_visible()
    expect(page.get_by_text("KYC pending verification")).to_be_visible()

    # The supervisor checks the documents beside the data and verifies.
    desk_context = browser.new_context(**browser_context_args)
    desk = desk_context.new_page()
    desk.set_viewport_size(VIEWPORTS[1280])
    sign_in(desk, supervisor)
    desk.goto("/supervisor/queue/")
    desk.get_by_role("link", name=re.compile("KYC verification: Nandini Rao")).click()
    expect(value_of(desk.get_by_test_id("request-description"), "Date of birth")).to_contain_text("29 Feb 1984")
    documents = desk.get_by_test_id("kyc-verification-documents")
    expect(documents.get_by_role("img", name="Photograph")).to_be_visible()
    expect(documents.get_by_role("link", name="View the proof of address")).to_be_visible()
    screenshot(desk, "kyc-verification-1280")
    desk.get_by_role("button", name="Approve").click()
    expect(desk.get_by_text(re.compile("Approved and carried out"))).to_be_visible()
    desk_context.close()

    # Back at the counter, and on a phone.
    page.reload()
    expect(page.get_by_text("KYC verified", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"re-KYC is due by"))).to_be_visible()
    customer.refresh_from_db()
    assert customer.kyc_status == "verified" and customer.risk_category == "low"
    page.set_viewport_size(VIEWPORTS[390])
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    screenshot(page, "customer-360-390")
    page.goto("/teller/customers/")
    page.get_by_label("Find a customer").fill(PAN)
    expect(page.get_by_role("link", name="Nandini Rao")).to_be_visible()
    screenshot(page, "customer-search-390")


def test_a_rejected_kyc_shows_its_reason_to_the_teller(page, browser, browser_context_args, teller, supervisor):
    customer = make_complete_draft(teller, first_name="Farhan", last_name="Siddiqui")
    actions.submit_kyc(actor=teller, customer=customer)
    reason = "The proof of address is older than three months. Ask for a recent bill."

    page.set_viewport_size(VIEWPORTS[1280])
    sign_in(page, supervisor)
    page.goto("/supervisor/queue/")
    page.get_by_role("link", name=re.compile("KYC verification: Farhan Siddiqui")).click()
    page.get_by_label("Reason for rejecting").fill(reason)
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(re.compile("The maker will see your reason"))).to_be_visible()

    teller_context = browser.new_context(**browser_context_args)
    counter = teller_context.new_page()
    counter.set_viewport_size(VIEWPORTS[1280])
    sign_in(counter, teller)
    counter.goto("/teller/requests/")
    expect(counter.get_by_text(reason).filter(visible=True)).to_be_visible()
    counter.goto(f"/teller/customers/{customer.pk}/")
    expect(counter.get_by_test_id("rejection")).to_contain_text(reason)
    expect(counter.get_by_text("KYC rejected", exact=True)).to_be_visible()
    counter.get_by_role("link", name="Correct the KYC").click()
    expect(counter.get_by_test_id("rejection")).to_contain_text(reason)
    screenshot(counter, "kyc-rejected-1280")
    counter.set_viewport_size(VIEWPORTS[390])
    expect(counter.get_by_test_id("rejection")).to_be_visible()
    screenshot(counter, "kyc-rejected-390")
    teller_context.close()
