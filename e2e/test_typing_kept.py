"""Journey: forms that redraw part of themselves keep what the person types while the
redraw is on its way. Choosing a payee's kind, or a new customer's type, asks the
server for the fields that apply; the answer is held back here (page.route) until
more has been typed, so the window is the same on every run. Typing survives.
And the refusal: what the server says no longer applies (the UPI ID of an account
payee, a company's first name) does not come back."""

import pytest
from playwright.sync_api import expect

from banking.payments.tests.factories import make_bank
from banking.testing import make_branch, make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e


class HeldRedraws:
    """Holds back the requests that match until released, letting every other pass."""

    def __init__(self, page, pattern, matches):
        self.held = []
        self.matches = matches
        page.route(pattern, self.handle)

    def handle(self, route):
        if self.matches(route.request):
            self.held.append(route)
        else:
            route.continue_()

    def release(self):
        assert len(self.held) == 1, f"{len(self.held)} redraws were held"
        self.held.pop().continue_()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_payees_fields_keep_what_was_typed_while_they_redraw(page, transactional_db, width):
    bank = make_bank()
    account = bank.account(balance=1_000_00, first_name="Meera", last_name="Iyer")
    customer = named(bank.customer_login(account), "Meera", "Iyer")
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, customer)
    page.goto("/banking/payees/new/")
    redraws = HeldRedraws(page, "**/banking/payees/new/?*",
                          lambda request: request.method == "GET" and request.headers.get("hx-request") == "true")

    page.get_by_role("radio", name="Account at another bank").check()
    page.get_by_label("Beneficiary's name").press_sequentially("Ravi Kumar")
    page.get_by_label("Account number").press_sequentially("50100012345678")
    redraws.release()

    expect(page.get_by_role("textbox", name="UPI ID")).to_have_count(0)  # the redraw has landed
    expect(page.get_by_label("Beneficiary's name")).to_have_value("Ravi Kumar")
    expect(page.get_by_label("Account number")).to_have_value("50100012345678")
    expect(page.get_by_label("IFSC")).to_be_visible()
    screenshot(page, f"payee-typing-kept-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_customers_details_keep_what_was_typed_while_the_type_redraws(page, transactional_db, width):
    teller = named(make_user(Role.TELLER, branch=make_branch()), "Asha", "Kulkarni")
    page.set_viewport_size(VIEWPORTS[width])
    sign_in(page, teller)
    page.goto("/teller/customers/new/")
    page.get_by_label("First name").fill("Nandini")
    redraws = HeldRedraws(page, "**/teller/customers/new/",
                          lambda request: request.method == "POST" and "action=retype" in (request.post_data or ""))

    page.get_by_label("Customer type").select_option(label="Company")
    page.get_by_label("Mobile number").press_sequentially("98200 44556")
    page.get_by_label("Email").press_sequentially("accounts@raotraders.example.in")
    page.get_by_label("Occupation").press_sequentially("Trading")
    redraws.release()

    expect(page.get_by_label("Registered name")).to_be_visible()  # the redraw has landed
    expect(page.get_by_label("First name")).to_have_count(0)
    expect(page.get_by_label("Date of incorporation")).to_be_visible()
    expect(page.get_by_label("Mobile number")).to_have_value("98200 44556")
    expect(page.get_by_label("Email")).to_have_value("accounts@raotraders.example.in")
    expect(page.get_by_label("Occupation")).to_have_value("Trading")
    screenshot(page, f"kyc-typing-kept-{width}")
