"""Operations' ledger screens, and manual journals and reversals through maker-checker."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest
from banking.core.identifiers import new_token
from banking.ledger.actions import Line, advance_business_date, post_entry
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import BusinessDate, EntryKind, JournalEntry, LedgerAccount
from banking.ledger.queries import trial_balance
from banking.ledger.tests.helpers import customer_account, deadlock_once, fund, transfer
from banking.testing import make_branch, make_user, run_together
from banking.users.roles import Role


@pytest.fixture
def chart(db):
    return ensure_standard_chart([("000001", "Fort")])


@pytest.fixture
def ops(client, chart):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


def journal_data(narration, lines, action="submit", token=None):
    data = {"narration": narration, "action": action, "idempotency_key": token or new_token(),
            "lines-TOTAL_FORMS": str(len(lines)),
            "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "2", "lines-MAX_NUM_FORMS": "40"}
    for i, (account, side, amount) in enumerate(lines):
        data[f"lines-{i}-account"] = str(account.pk) if account else ""
        data[f"lines-{i}-side"] = side
        data[f"lines-{i}-amount"] = amount
    return data


def messages_of(response):
    return [str(message) for message in response.wsgi_request._messages]


def token_of(response):
    """The hidden idempotency token the page drew for its form."""
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.text)
    assert match, "the form carries no idempotency token"
    return match.group(1)


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
        ([("1901", "D", "-5"), ("3100", "C", "-5")], "Enter the amount in rupees"),
        ([("1901", "D", "1.005"), ("3100", "C", "1.005")], "at most 2 decimals"),
        ([("1901", "D", "abc"), ("3100", "C", "10")], "Enter the amount in rupees"),
        ([("1901", "D", "1e2"), ("3100", "C", "100")], "Enter the amount in rupees"),
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
    response = client.post(reverse("ops:entry-reverse", args=[entry.pk]),
                           {"reason": "Wrong account", "idempotency_key": new_token()})
    assert response.status_code == 302
    # a second request for the same entry is refused while the first waits
    client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "again", "idempotency_key": new_token()})
    assert ApprovalRequest.objects.filter(kind="ledger.reversal").count() == 1
    request = ApprovalRequest.objects.get(kind="ledger.reversal")
    supervisor = make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00)
    approve_request(actor=supervisor, request_id=request.pk)
    a.refresh_from_db()
    assert a.balance == 10_000
    detail = client.get(reverse("ops:entry-detail", args=[entry.pk]))
    assert "Reversed by" in detail.text
    # and it cannot be reversed again
    client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "twice", "idempotency_key": new_token()})
    assert ApprovalRequest.objects.filter(kind="ledger.reversal").count() == 1


def test_reversal_needs_a_reason(client, ops, chart):
    entry = transfer(customer_account(10_000), customer_account(0), 100)
    response = client.post(reverse("ops:entry-reverse", args=[entry.pk]),
                           {"reason": "  ", "idempotency_key": new_token()})
    assert messages_of(response) == ["Give the reason for the reversal."]
    assert ApprovalRequest.objects.count() == 0


def test_compliance_can_read_but_not_enter_journals(client, chart):
    client.force_login(make_user(Role.COMPLIANCE))
    assert client.get(reverse("ops:chart")).status_code == 200
    assert client.get(reverse("ops:journal-new")).status_code == 403
    entry = transfer(customer_account(10_000), customer_account(0), 100)
    assert client.post(reverse("ops:entry-reverse", args=[entry.pk]), {"reason": "x"}).status_code == 403
    assert LedgerAccount.objects.filter(code="1901").exists()


# -- a form sent twice ----------------------------------------------------------------


def test_journal_form_draws_a_fresh_token_and_sends_once(client, ops, chart):
    first = client.get(reverse("ops:journal-new"))
    second = client.get(reverse("ops:journal-new"))
    assert token_of(first) != token_of(second)
    assert re.search(r'<form[^>]*id="journal-form"[^>]*data-cbs-once', first.text)
    # Adding a line keeps the token the page was drawn with.
    data = journal_data("Opening", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10")], action="add",
                        token=token_of(first))
    fragment = client.post(reverse("ops:journal-new"), data, headers={"HX-Request": "true"})
    assert token_of(fragment) == token_of(first)


def test_a_journal_sent_twice_queues_one_request_and_leads_to_it(client, ops, chart):
    token = token_of(client.get(reverse("ops:journal-new")))
    data = journal_data("Capital infusion", [(chart["1901"], "D", "2,500"), (chart["3100"], "C", "2500")],
                        token=token)
    first = client.post(reverse("ops:journal-new"), data)
    second = client.post(reverse("ops:journal-new"), data)
    assert first.status_code == second.status_code == 302
    assert second.url == reverse("ops:my-requests")
    request = ApprovalRequest.objects.get()
    assert any(f"#{request.pk}" in message and "not sent again" in message for message in messages_of(second))


def test_a_journal_token_used_for_another_journal_is_refused(client, ops, chart):
    token = token_of(client.get(reverse("ops:journal-new")))
    client.post(reverse("ops:journal-new"),
                journal_data("First", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10")], token=token))
    response = client.post(reverse("ops:journal-new"),
                           journal_data("Second", [(chart["1901"], "D", "99"), (chart["3100"], "C", "99")],
                                        token=token))
    assert response.status_code == 200
    assert "already used" in response.text
    assert ApprovalRequest.objects.count() == 1


def test_a_journal_without_its_token_is_refused(client, ops, chart):
    data = journal_data("No token", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10")])
    del data["idempotency_key"]
    response = client.post(reverse("ops:journal-new"), data)
    assert response.status_code == 200
    assert "reload the page" in response.text
    assert ApprovalRequest.objects.count() == 0


def test_a_reversal_sent_twice_queues_one_request_and_leads_to_it(client, ops, chart):
    entry = transfer(customer_account(10_000), customer_account(0), 4_000)
    page = client.get(reverse("ops:entry-detail", args=[entry.pk]))
    assert re.search(r'<form[^>]*entries/\d+/reverse/[^>]*data-cbs-once', page.text)
    data = {"reason": "Wrong account", "idempotency_key": token_of(page)}
    first = client.post(reverse("ops:entry-reverse", args=[entry.pk]), data)
    second = client.post(reverse("ops:entry-reverse", args=[entry.pk]), data)
    assert first.url == second.url == reverse("ops:my-requests")
    request = ApprovalRequest.objects.get(kind="ledger.reversal")
    assert any(f"#{request.pk}" in message and "not sent again" in message for message in messages_of(second))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_journal_sent_twice_at_once_queues_one_request():
    chart = ensure_standard_chart()
    user = make_user(Role.OPERATIONS)
    for round_ in range(4):
        data = journal_data(f"Round {round_}", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10")])

        def send(data=data):
            browser = Client()
            browser.force_login(user)
            return browser.post(reverse("ops:journal-new"), data)

        responses, errors = run_together(send, send)
        assert errors == []
        assert [response.status_code for response in responses] == [302, 302]
        assert ApprovalRequest.objects.filter(summary=f"Manual journal: Round {round_}").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_reversals_of_one_entry_at_once_queue_one_request():
    ensure_standard_chart()
    makers = [make_user(Role.OPERATIONS) for _ in range(2)]
    for _ in range(4):
        entry = transfer(customer_account(10_000), customer_account(0), 4_000)

        def ask(user):
            browser = Client()
            browser.force_login(user)
            response = browser.post(reverse("ops:entry-reverse", args=[entry.pk]),
                                    {"reason": f"Asked by {user.username}", "idempotency_key": new_token()})
            return response, messages_of(response)

        answers, errors = run_together(*(lambda user=user: ask(user) for user in makers))
        assert errors == []
        assert [response.status_code for response, _ in answers] == [302, 302]
        assert ApprovalRequest.objects.filter(kind="ledger.reversal", payload__entry_id=entry.pk).count() == 1
        said = sorted(" ".join(messages) for _, messages in answers)
        assert any("waiting for a second person" in text for text in said), said
        assert any("already waiting for approval" in text for text in said), said


# -- deadlocks during an approval ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_while_approving_a_journal_is_retried_unseen(client, monkeypatch):
    chart = ensure_standard_chart()
    client.force_login(make_user(Role.OPERATIONS))
    client.post(reverse("ops:journal-new"),
                journal_data("Capital infusion", [(chart["1901"], "D", "2,500"), (chart["3100"], "C", "2500")]))
    request = ApprovalRequest.objects.get()
    client.force_login(make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00))
    deadlock_once(monkeypatch, "banking.ledger.actions.execute_prepared")

    response = client.post(reverse("supervisor:request-approve", args=[request.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("supervisor:queue")
    assert any("Approved and carried out" in str(m) for m in response.context["messages"])
    request.refresh_from_db()
    assert request.status == "approved"
    entry = JournalEntry.objects.get(kind="manual")
    assert entry.postings.count() == 2 and request.result["entry_id"] == entry.pk
    assert LedgerAccount.objects.get(code="1901").balance == 2_500_00


# -- trial balance and a GL account's ledger ------------------------------------------------


def test_trial_balance_as_of_a_past_date_shows_that_days_figures(client, ops, chart):
    customer_account(7_000_00)
    day1 = BusinessDate.objects.current()
    advance_business_date(actor=None)
    customer_account(1_234_00)
    post_entry(actor=None, lines=[Line.debit(chart["1901"], 300_00), Line.credit(chart["3100"], 300_00)],
               kind=EntryKind.MANUAL, narration="Later", idempotency_key=new_token())

    past = client.get(reverse("ops:trial-balance"), {"as_of": day1.isoformat()})
    now = client.get(reverse("ops:trial-balance"))

    assert past.context["as_of"] == day1 and past.context["error"] is None
    assert f"At the close of business on {day1:%d %b %Y}" in past.text
    assert "₹7,000.00" in past.text and "₹8,234.00" not in past.text
    assert "1901" not in past.text  # no suspense balance then
    assert "₹8,234.00" in now.text and "₹300.00" in now.text
    assert past.context["report"].difference == now.context["report"].difference == 0


def test_gl_account_ledger_filters_by_date_range_and_kind(client, ops, chart):
    capital = chart["3100"]
    opening = fund(customer_account(0), 1_000_00)
    day1 = BusinessDate.objects.current()
    advance_business_date(actor=None)
    manual = post_entry(actor=None, lines=[Line.debit(chart["1901"], 20_00), Line.credit(capital, 20_00)],
                        kind=EntryKind.MANUAL, narration="Later", idempotency_key=new_token())
    day2 = BusinessDate.objects.current()
    url = reverse("ops:gl-account", args=[capital.code])

    def shown(query):
        response = client.get(url, query, headers={"HX-Request": "true"})
        assert response.status_code == 200 and not response.context["filter"].errors
        return {entry.number for entry in (opening, manual) if entry.number in response.text}

    assert shown({}) == {opening.number, manual.number}
    assert shown({"date_from": day2.isoformat()}) == {manual.number}
    assert shown({"date_to": day1.isoformat()}) == {opening.number}
    assert shown({"date_from": day1.isoformat(), "date_to": day1.isoformat()}) == {opening.number}
    assert shown({"kind": "manual"}) == {manual.number}
    assert shown({"kind": "opening"}) == {opening.number}
    assert shown({"kind": "transfer"}) == set()


@pytest.mark.parametrize("field", ["amount_min", "amount_max"])
def test_gl_account_ledger_says_when_an_amount_filter_is_not_an_amount(client, ops, chart, field):
    entry = fund(customer_account(0), 1_000_00)
    url = reverse("ops:gl-account", args=["3100"])
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(url, {field: "lots"}, headers=headers)
        assert response.status_code == 200
        assert "Enter the amount in rupees" in response.text
        assert entry.number in response.text  # filters nothing out


# -- the reversal in the supervisor's words -------------------------------------------------


def test_supervisor_reads_a_reversal_request_in_words(client, ops, chart):
    a = customer_account(10_000_00, name="Asha Verma")
    b = customer_account(0, name="Vikram Rao")
    entry = transfer(a, b, 4_321_00)
    client.post(reverse("ops:entry-reverse", args=[entry.pk]),
                {"reason": "Credited to the wrong account", "idempotency_key": new_token()})
    request = ApprovalRequest.objects.get(kind="ledger.reversal")
    client.force_login(make_user(Role.SUPERVISOR, branch=make_branch(), approval_limit=10_00_000_00))

    response = client.get(reverse("supervisor:request-detail", args=[request.pk]))

    assert response.status_code == 200
    text = response.text
    assert "Reversal of an entry" in text
    assert entry.number in text and "Transfer" in text
    assert "₹4,321.00" in text
    assert "Credited to the wrong account" in text
    assert f"Will credit</dt><dd class=\"col-sm-8\">{a.code} Asha Verma: ₹4,321.00" in text
    assert f"Will debit</dt><dd class=\"col-sm-8\">{b.code} Vikram Rao: ₹4,321.00" in text
    assert "entry_id" not in text and '"reason":' not in text  # words, not JSON
