"""Journey: operations replenishes the low ATM from the branch's vault and a supervisor
approves it in a second browser, after which the terminal is in service; then
operations uploads the ATM's electronic journal, finds a withdrawal approved but not
dispensed, and asks for its reversal, which the supervisor approves. A journal with
a bad line is refused in words. Registering a terminal: a bad id is refused in words
and nothing is queued; once the supervisor approves, the key is shown once to the
operations user who asked, and a reload or a second visit does not show it again."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from banking.approvals.models import ApprovalRequest
from banking.cards.cash import REGISTER_KIND
from banking.cards.models import Terminal
from banking.cards.switch import handle_message
from banking.cards.tests.factories import CardBank, withdrawal
from banking.teller.actions import fund_vault
from banking.teller.denominations import Denominations
from banking.testing import make_user
from banking.users.roles import Role

from .helpers import VIEWPORTS, named, screenshot, sign_in

pytestmark = pytest.mark.e2e

LIVE = 15_000  # ms: the supervisor's queue polls every 5 s


@pytest.fixture
def scene(transactional_db):
    bank = CardBank(balance=20_000_00)
    fund_vault(actor=bank.supervisor, branch=bank.branch, counts=Denominations(n500=1000, n200=1000, n100=1000),
               idempotency_key=uuid.uuid4().hex)
    low = bank.terminal("CBSA0002", n500=0, n200=6, n100=12)  # the demo bank's low terminal
    lobby = bank.terminal("CBSA0001")
    for terminal in (low, lobby):
        handle_message(terminal=terminal, message={"mti": "0800"})
    answer = handle_message(terminal=lobby, message=withdrawal(lobby, bank.number, "1000.00", stan="000002"))
    assert answer["response_code"] == "00"
    ops = named(make_user(Role.OPERATIONS), "Farhan", "Qureshi")
    named(bank.supervisor, "Sunil", "Deshmukh")
    return {"bank": bank, "low": low, "lobby": lobby, "ops": ops, "supervisor": bank.supervisor}


def approve_in_queue(page, supervisor, link_text, shown_text):
    page.goto("/supervisor/queue/")
    request = page.get_by_role("link", name=re.compile(link_text))
    expect(request).to_be_visible(timeout=LIVE)
    request.click()
    expect(page.get_by_text(shown_text)).to_be_visible()
    page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_text(re.compile("Approved and carried out"))).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_replenish_the_low_atm_and_reconcile_its_journal(browser, scene, live_server, tmp_path, width):
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page, sup_page = maker.new_page(), checker.new_page()
    sign_in(page, scene["ops"])
    sign_in(sup_page, scene["supervisor"])

    # The low terminal: no ₹500 notes at all.
    page.goto("/ops/atm/CBSA0002/replenish/")
    expect(page.get_by_role("heading", name="Replenish ATM CBSA0002")).to_be_visible()
    expect(page.get_by_test_id("terminal-status")).to_have_text("Cassette empty")
    expect(page.get_by_test_id("cassette-500")).to_contain_text("0")
    page.get_by_label("Left: ₹200 notes").fill("6")
    page.get_by_label("Left: ₹100 notes").fill("12")
    page.get_by_label("Load: ₹500 notes").fill("400")
    page.get_by_label("Load: ₹200 notes").fill("300")
    page.get_by_label("Load: ₹100 notes").fill("500")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_test_id("pending-replenishment")).to_contain_text("400 × ₹500, 300 × ₹200, 500 × ₹100")
    screenshot(page, f"ops-atm-replenish-{width}")

    approve_in_queue(sup_page, scene["supervisor"], "Replenish ATM CBSA0002",
                     "None: the count agrees with the switch")
    handle_message(terminal=scene["low"], message={"mti": "0800"})  # the terminal is back and says so
    page.reload()
    expect(page.get_by_test_id("terminal-status")).to_have_text("In service")
    expect(page.get_by_test_id("cassette-500")).to_contain_text("400")
    expect(page.get_by_test_id("cassette-200")).to_contain_text("306")
    expect(page.get_by_test_id("replenishment").first).to_contain_text("Replenished")

    # The lobby terminal's journal: STAN 000002 approved by the switch, no notes presented.
    journal = tmp_path / "EJ_CBSA0001.csv"
    journal.write_text("STAN,TIME,N500,N200,N100,RESULT\n000002,2026-12-07T10:15:00+05:30,0,0,0,NOT_DISPENSED\n")
    page.goto("/ops/atm/reconciliation/")
    page.get_by_role("combobox", name="Terminal").select_option("CBSA0001")
    page.get_by_label("Electronic journal (CSV)").set_input_files(str(journal))
    page.get_by_role("button", name="Upload and reconcile").click()
    expect(page.get_by_role("heading", name="Journal EJ_CBSA0001.csv")).to_be_visible()
    expect(page.get_by_test_id("exceptions")).to_have_text("1")
    item = page.get_by_role("article", name="Exception STAN 000002")
    expect(item).to_contain_text("Approved but not dispensed")
    item.get_by_label("Resolution").select_option(label="Reverse to the customer")
    item.get_by_label("Reason").fill("The journal shows no notes presented")
    item.get_by_role("button", name="Send for approval").click()
    expect(item).to_contain_text("Awaiting approval")
    screenshot(page, f"ops-atm-journal-{width}")

    approve_in_queue(sup_page, scene["supervisor"], "Reverse to the customer",
                     "Reverse ₹1,000.00 to the customer's account through the switch (a 0420 for this STAN)")
    page.reload()
    expect(page.get_by_role("article", name="Exception STAN 000002")).to_contain_text(
        "Resolved: Reverse to the customer")

    # A journal with a bad line is refused whole, in words.
    bad = tmp_path / "EJ_bad.csv"
    bad.write_text("STAN,TIME,N500,N200,N100,RESULT\n000003,yesterday,0,0,0,DECLINED\n")
    page.goto("/ops/atm/reconciliation/")
    page.get_by_role("combobox", name="Terminal").select_option("CBSA0001")
    page.get_by_label("Electronic journal (CSV)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and reconcile").click()
    expect(page.get_by_text(re.compile("EJ_bad.csv was not reconciled, nothing was kept: line 2: the time "
                                       "'yesterday'"))).to_be_visible()
    maker.close()
    checker.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_terminals_key_is_shown_once_to_whoever_asked(browser, scene, live_server, width):
    maker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    checker = browser.new_context(base_url=live_server.url, viewport=VIEWPORTS[width])
    page, sup_page = maker.new_page(), checker.new_page()
    sign_in(page, scene["ops"])
    sign_in(sup_page, scene["supervisor"])

    # A terminal id that is not 8 capital letters or digits is refused in words, nothing queued.
    page.goto("/ops/atm/terminals/new/")
    page.get_by_label("Branch").select_option(value=str(scene["bank"].branch.pk))
    page.get_by_label("Terminal id").fill("ATM 1")
    page.get_by_label("Location").fill("Marine Drive")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_role("alert")).to_contain_text("A terminal id is 8 capital letters or digits.")
    assert not ApprovalRequest.objects.filter(kind=REGISTER_KIND).exists()

    page.get_by_label("Terminal id").fill("cbsa0093")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_text(re.compile("to register CBSA0093 is waiting for a supervisor's approval"))).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for approval")).to_contain_text("Register ATM CBSA0093")
    screenshot(page, f"ops-atm-terminal-new-{width}")

    approve_in_queue(sup_page, scene["supervisor"], "Register ATM CBSA0093",
                     "its key is shown once, to the person who asked")
    key = Terminal.objects.get(terminal_id="CBSA0093").key
    page.reload()
    page.get_by_role("button", name="Show the key of CBSA0093").click()
    expect(page.get_by_test_id("key")).to_have_text(key)
    screenshot(page, f"ops-atm-terminal-key-{width}")

    # Reloading sends the form again, and is refused; a second visit offers no button.
    page.reload()
    expect(page.get_by_text(re.compile("The key of terminal CBSA0093 was shown on .*; it is shown once only"))
           ).to_be_visible()
    expect(page.get_by_test_id("registration")).to_contain_text("Key shown")
    expect(page.get_by_role("button", name="Show the key of CBSA0093")).to_have_count(0)
    assert key not in page.content()
    maker.close()
    checker.close()
