"""Operations' ledger screens, and manual journals and reversals through maker-checker."""

import pytest
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import JournalEntry, LedgerAccount
from banking.ledger.queries import trial_balance
from banking.ledger.tests.helpers import customer_account, transfer
from banking.testing import make_branch, make_user
from banking.users.roles import Role


@pytest.fixture
def chart(db):
    return ensure_standard_chart([("000001", "Fort")])


@pytest.fixture
def ops(client, chart):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


def journal_data(narration, lines, action="submit"):
    data = {"narration": narration, "action": action, "lines-TOTAL_FORMS": str(len(lines)),
            "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "2", "lines-MAX_NUM_FORMS": "40"}
    for i, (account, side, amount) in enumerate(lines):
        data[f"lines-{i}-account"] = str(account.pk) if account else ""
        data[f"lines-{i}-side"] = side
        data[f"lines-{i}-amount"] = amount
    return data


def test_chart_shows_headers_and_balances(client, ops, chart):
    a = customer_account(1_50_000_00)
    response = client.get(reverse("ops:chart"))
    assert response.status_code == 200
    assert "Savings bank deposits" in response.text
    assert "₹1,50,000.00" in response.text
    assert a.code not in response.text  # customers are counted, not listed


def test_gl_account_ledger_filters_by_amount(client, ops, chart):
    a = customer_account(10_000_00)
    b = customer_account(0)
    transfer(a, b, 500_00)
    capital = chart["3100"]
    response = client.get(reverse("ops:gl-account", args=[capital.code]))
    assert "₹10,000.00" in response.text
    response = client.get(reverse("ops:gl-account", args=[capital.code]), {"amount_min": "20,000"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "₹10,000.00" not in response.text
    assert 'id="gl-postings"' in response.text and "<nav" not in response.text


def test_gl_account_refuses_headers_and_unknown_codes(client, ops, chart):
    assert client.get(reverse("ops:gl-account", args=["2110"])).status_code == 404
    assert client.get(reverse("ops:gl-account", args=["NOPE"])).status_code == 404


def test_trial_balance_now_and_bad_dates(client, ops, chart):
    customer_account(7_000_00)
    response = client.get(reverse("ops:trial-balance"))
    assert response.context["report"].difference == 0
    assert "₹7,000.00" in response.text
    response = client.get(reverse("ops:trial-balance"), {"as_of": "not-a-date"})
    assert response.status_code == 200 and "calendar date" in response.text
    response = client.get(reverse("ops:trial-balance"), {"as_of": "2999-01-01"})
    assert "nothing after the business date" in response.text


def test_journal_lines_are_added_removed_and_totalled_with_htmx(client, ops, chart):
    suspense, capital = chart["1901"], chart["3100"]
    data = journal_data("Opening", [(suspense, "D", "100"), (capital, "C", "40")], action="add")
    response = client.post(reverse("ops:journal-new"), data, headers={"HX-Request": "true"})
    assert response.text.count('data-testid="journal-line"') == 3
    assert "<nav" not in response.text
    data = journal_data("Opening", [(suspense, "D", "100"), (capital, "C", "40"), (None, "C", "")],
                        action="remove-2")
    response = client.post(reverse("ops:journal-new"), data, headers={"HX-Request": "true"})
    assert response.text.count('data-testid="journal-line"') == 2
    data = journal_data("Opening", [(suspense, "D", "100"), (capital, "C", "40")], action="recalc")
    response = client.post(reverse("ops:journal-new"), data, headers={"HX-Request": "true"})
    assert "₹60.00" in response.text  # the difference
    assert ApprovalRequest.objects.count() == 0


@pytest.mark.parametrize(
    "lines,message",
    [
        ([("1901", "D", "100"), ("3100", "C", "99.99")], "does not balance"),
        ([("1901", "D", "0"), ("3100", "C", "0")], "above zero"),
        ([("1901", "D", "-5"), ("3100", "C", "-5")], "above zero"),
        ([("1901", "D", "1.005"), ("3100", "C", "1.005")], "at most 2 decimal places"),
        ([("1901", "D", "abc"), ("3100", "C", "10")], "as a number"),
    ],
)
def test_bad_journals_are_refused_and_queue_nothing(client, ops, chart, lines, message):
    data = journal_data("Bad", [(chart[code], side, amount) for code, side, amount in lines])
    response = client.post(reverse("ops:journal-new"), data)
    assert response.status_code == 200
    assert message in response.text
    assert ApprovalRequest.objects.count() == 0


def test_a_header_account_cannot_be_chosen(client, ops, chart):
    data = journal_data("Header", [(chart["2110"], "D", "10"), (chart["3100"], "C", "10")])
    response = client.post(reverse("ops:journal-new"), data)
    assert "Select a valid choice" in response.text
    assert ApprovalRequest.objects.count() == 0


def test_manual_journal_goes_through_the_queue_and_posts_once_approved(client, ops, chart):
    suspense, capital = chart["1901"], chart["3100"]
    response = client.post(reverse("ops:journal-new"),
                           journal_data("Capital infusion", [(suspense, "D", "2,500.50"), (capital, "C", "2500.50")]))
    assert response.status_code == 302
    request = ApprovalRequest.objects.get()
    assert request.kind == "ledger.manual_journal" and request.amount == 2_500_50
    assert JournalEntry.objects.count() == 0
    supervisor = make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00)
    approve_request(actor=supervisor, request_id=request.pk)
    entry = JournalEntry.objects.get(kind="manual")
    assert (entry.maker, entry.checker) == (ops, supervisor)
    suspense.refresh_from_db()
    assert suspense.balance == 2_500_50
    assert trial_balance().difference == 0


def test_reversal_request_then_approval_restores_balances(client, ops, chart):
    a, b = customer_account(10_000), customer_account(0)
    entry = transfer(a, b, 4_000)
    response = client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "Wrong account"})
    assert response.status_code == 302
    # a second request for the same entry is refused while the first waits
    client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "again"})
    assert ApprovalRequest.objects.filter(kind="ledger.reversal").count() == 1
    request = ApprovalRequest.objects.get(kind="ledger.reversal")
    supervisor = make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00)
    approve_request(actor=supervisor, request_id=request.pk)
    a.refresh_from_db()
    assert a.balance == 10_000
    detail = client.get(reverse("ops:entry-detail", args=[entry.pk]))
    assert "Reversed by" in detail.text
    # and it cannot be reversed again
    client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "twice"})
    assert ApprovalRequest.objects.filter(kind="ledger.reversal").count() == 1


def test_reversal_needs_a_reason(client, ops, chart):
    entry = transfer(customer_account(10_000), customer_account(0), 100)
    client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "  "})
    assert ApprovalRequest.objects.count() == 0


def test_compliance_can_read_but_not_enter_journals(client, chart):
    client.force_login(make_user(Role.COMPLIANCE))
    assert client.get(reverse("ops:chart")).status_code == 200
    assert client.get(reverse("ops:journal-new")).status_code == 403
    entry = transfer(customer_account(10_000), customer_account(0), 100)
    assert client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "x"}).status_code == 403
    assert LedgerAccount.objects.filter(code="1901").exists()
