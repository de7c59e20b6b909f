"""Journey: operations runs the NEFT batch and sees a planted return, watches the
payment monitor update by itself, uploads a settlement file with a planted amount
mismatch and asks for it to be written to suspense; a supervisor approves it in a
second browser. And a settlement file with malformed lines is reported line by
line while its good lines are reconciled."""

import re

import pytest
from playwright.sync_api import expect

from banking.payments.actions import make_payment
from banking.payments.clearing import simulate_inbound_payment
from banking.payments.models import NeftBatch, Rail
from banking.payments.simulator import SETTLEMENT_COLUMNS
from banking.payments.tests.factories import key, make_bank, payee
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the monitor and the queue poll every 5 s


@pytest.fixture
def scene(transactional_db):
    bank = make_bank()
    account = bank.account(balance=50_000_00)

    def neft(amount, number):
        return make_payment(actor=None, customer=account.customer, debit_account=account, amount=amount,
                            idempotency_key=key(), rail=Rail.NEFT,
                            payee=payee(account, account_number=number, name="Ravi Kumar"))

    good, returned = neft(1_500_00, "50100012345678"), neft(2_000_00, "12345678000")
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    supervisor = named(make_user(Role.SUPERVISOR, branch=bank.branch, approval_limit=10_00_000_00), "Sunil",
                       "Deshmukh")
    return {"account": account, "good": good, "returned": returned, "ops": ops, "supervisor": supervisor}


def open_menu_if_folded(page):
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()


@pytest.mark.parametrize("width", [1280, 390])
def test_operations_run_the_batch_reconcile_and_resolve_with_a_checker(browser, scene, live_server, tmp_path, width):
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page, sup_page = maker.new_page(), checker.new_page()
    good, returned = scene["good"], scene["returned"]

    sign_in(page, scene["ops"])
    open_menu_if_folded(page)
    page.get_by_role("navigation", name="Operations navigation").get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payment monitor")).to_be_visible()
    page.get_by_role("navigation", name="Payment screens").get_by_role("link", name="NEFT batches").click()
    expect(page.get_by_test_id("neft-waiting")).to_contain_text("2 payments waiting")
    page.get_by_role("button", name="Run the NEFT batch now").click()
    batch = NeftBatch.objects.get()
    expect(page.get_by_role("heading", name=batch.name)).to_be_visible()
    expect(page.get_by_text("1 settled (₹1,500.00), 1 returned")).to_be_visible()
    expect(page.get_by_test_id("returned-count")).to_contain_text("1 · ₹2,000.00")
    expect(page.get_by_role("link", name="2 matched, 0 exceptions")).to_be_visible()
    returned_row = page.get_by_role("row", name=re.compile(returned.number))
    expect(returned_row).to_contain_text("Reversed")
    screenshot(page, f"ops-neft-batch-{width}")

    # The monitor shows a payment that arrives while it is open, without a reload.
    page.goto("/ops/payments/")
    inbound = simulate_inbound_payment(actor=None, rail=Rail.IMPS, amount=777_00, remitter_name="Anil Mehta",
                                       beneficiary_account=scene["account"].number)
    expect(page.get_by_role("link", name=inbound.number)).to_be_visible(timeout=LIVE)
    screenshot(page, f"ops-payment-monitor-{width}")

    # A settlement file in which the network says ₹1,600 for our ₹1,500 payment.
    text = batch.settlement_file.content.replace("1500.00", "1600.00")
    path = tmp_path / "NEFT_resent.csv"
    path.write_text(text)
    page.get_by_role("navigation", name="Payment screens").get_by_role("link", name="Reconciliation").click()
    page.get_by_label("Settlement file (CSV)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and reconcile").click()
    expect(page.get_by_role("heading", name="Reconciliation of NEFT_resent.csv")).to_be_visible()
    expect(page.get_by_test_id("exceptions")).to_have_text("1")
    expect(page.get_by_role("row", name=re.compile(good.reference))).to_contain_text("Amount mismatch")
    screenshot(page, f"ops-reconciliation-{width}")

    page.get_by_role("link", name="Resolve them in the exceptions queue").click()
    item = page.get_by_role("article", name=f"Exception {good.reference}")
    expect(item).to_contain_text("Amount mismatch")
    item.get_by_label("Resolution").select_option(label="Write to suspense")
    item.get_by_label("Reason").fill("RBI debited ₹100 more; claim it back")
    item.get_by_role("button", name="Send for approval").click()
    expect(item).to_contain_text("Awaiting approval")
    screenshot(page, f"ops-exceptions-{width}")

    sign_in(sup_page, scene["supervisor"])
    sup_page.goto("/supervisor/queue/")
    request = sup_page.get_by_role("link", name=re.compile("Write to suspense"))
    expect(request).to_be_visible(timeout=LIVE)
    request.click()
    expect(sup_page.get_by_text("Write ₹100.00 to suspense (debit suspense, credit RBI settlement)")).to_be_visible()
    sup_page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(sup_page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()

    page.goto("/ops/payments/exceptions/?status=resolved")
    expect(page.get_by_role("article", name=f"Exception {good.reference}")).to_contain_text(
        "Resolved: Write to suspense")
    maker.close()
    checker.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_file_with_malformed_lines_is_reported_line_by_line(page, scene, tmp_path, width):
    page.set_viewport_size(VIEWPORTS[width])
    good = scene["good"]
    header = ",".join(SETTLEMENT_COLUMNS)
    line = f"{good.reference},2026-01-01,1,CBSB0000001,HDFC0001234,50100012345678,1500.00,PAID,"
    path = tmp_path / "broken.csv"
    path.write_text(f"{header}\n{line}\nnot,enough,columns\n{good.reference.replace('N', 'X')},2026-01-01,1,A,B,C,"
                    f"10.00,SETTLED,\n")
    sign_in(page, scene["ops"])
    page.goto("/ops/payments/reconciliations/")
    page.get_by_label("Settlement file (CSV)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and reconcile").click()
    malformed = page.get_by_role("list", name="Malformed lines")
    expect(malformed).to_contain_text("Line 2: the status 'PAID' is neither SETTLED nor RETURNED")
    expect(malformed).to_contain_text("Line 3: has 3 columns; a settlement line has 9")
    expect(malformed).to_contain_text("Line 4:")
    screenshot(page, f"ops-malformed-file-{width}")

    # A file that is not a settlement file at all is refused and kept nowhere.
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    page.goto("/ops/payments/reconciliations/")
    page.get_by_label("Settlement file (CSV)").set_input_files(str(other))
    page.get_by_role("button", name="Upload and reconcile").click()
    expect(page.get_by_text("notes.txt is not a CSV file")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_simulator_credits_a_customer_refuses_a_persons_collect_and_the_directory_loads(page, scene, tmp_path,
                                                                                          width):
    from banking.payments.tests.factories import vpa

    page.set_viewport_size(VIEWPORTS[width])
    address = vpa(scene["account"], name=f"asha{width}").address
    sign_in(page, scene["ops"])
    page.goto("/ops/payments/simulator/")
    inbound = page.get_by_role("form", name="Inbound payment")
    inbound.get_by_label("Rail").select_option("IMPS")
    inbound.get_by_label("Customer's account number or UPI ID").fill(scene["account"].number)
    inbound.get_by_label("Amount (₹)").fill("2,500.50")
    inbound.get_by_role("button", name="Send the inbound payment").click()
    expect(page.get_by_text(re.compile("^Inward IMPS · Settled"))).to_be_visible()
    expect(page.get_by_text("credited to account " + scene["account"].number)).to_be_visible()

    page.goto("/ops/payments/simulator/")
    collect = page.get_by_role("form", name="UPI collect request")
    collect.get_by_label("Customer's UPI ID").fill(address)
    collect.get_by_label("Merchant name").fill("Ravi (a person)")
    collect.get_by_label("Merchant UPI ID").fill("ravi@okhdfc")
    collect.get_by_label("Amount (₹)").fill("500")
    collect.get_by_label("Is a merchant").uncheck()
    collect.get_by_role("button", name="Send the collect request").click()
    expect(page.get_by_text("Collect requests from persons are refused")).to_be_visible()
    screenshot(page, f"ops-simulator-{width}")

    directory = tmp_path / "ifsc.csv"
    directory.write_text("ifsc,bank,branch,city\nYESB0000001,Yes Bank,Fort,Mumbai\nNOTANIFSC,Bank,Branch,City\n")
    page.goto("/ops/payments/ifsc/")
    page.get_by_label("Directory file (CSV)").set_input_files(str(directory))
    page.get_by_role("button", name="Load the directory").click()
    expect(page.get_by_role("list", name="Skipped lines")).to_contain_text("Line 3: 'NOTANIFSC' is not an IFSC")
    page.get_by_label("IFSC, bank, branch or city").fill("yes bank")
    expect(page.get_by_role("cell", name="YESB0000001")).to_be_visible()
    expect(page.get_by_role("cell", name="SBIN0000300")).to_have_count(0)
    screenshot(page, f"ops-ifsc-{width}")
