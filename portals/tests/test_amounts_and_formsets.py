"""Amounts are typed in plain rupees, and a formset's line count is read once, capped
before anything is built: hostile counts and lenient number syntaxes change nothing
and never cost the server more than an ordinary page."""

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.ledger.chart import ensure_standard_chart
from banking.ledger.models import JournalEntry
from banking.teller.actions import find_till
from banking.teller.denominations import Denominations
from banking.teller.models import CounterTransaction
from banking.teller.tests.factories import (
    OPENING,
    fresh,
    funded_branch,
    key,
    open_account,
    supervisor_for,
    teller_with_open_till,
)
from banking.testing import make_user
from banking.users.roles import Role
from portals.forms import AmountField
from portals.operations.ledger_forms import JournalLineForm

from .test_ops_ledger import journal_data

IN_WORDS = "Enter the amount in rupees, like 1,500 or 1500.50"
HTMX = {"HX-Request": "true"}
# An uncapped count took minutes and gigabytes; a capped one builds at most the
# formset's 40 lines (a count of 41 builds 41 without the cap, so this fails then).
MOST_LINES_BUILT = 40


@pytest.fixture
def lines_built(monkeypatch):
    """How many journal line forms a request built: the cost a hostile count could
    run up, counted rather than timed, so a loaded machine cannot fail it."""
    built = []
    real_init = JournalLineForm.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(JournalLineForm, "__init__", counting_init)
    return built


# -- the amount field ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1e2", "1_000", "１２３", "١٢", "1e3", "1,2,3", "12.345", "-5", "NaN", "Infinity",
                                   "+5", "5₹", "1,0000", "10,00", ".5", "1500.", "१२३४", "𝟘", "1 000", "0x10"])
def test_an_amount_in_another_notation_is_refused_in_words(typed):
    field = AmountField()
    with pytest.raises(Exception) as caught:
        field.clean(typed)
    assert IN_WORDS in " ".join(caught.value.messages)


@pytest.mark.parametrize("typed, paise", [
    ("1,00,000", 1_00_000_00), ("100,000", 1_00_000_00), ("1500.50", 1_500_50), ("1500", 1_500_00),
    ("10,00,000.5", 10_00_000_50), ("1,000,000", 10_00_000_00), (" ₹ 1,500 ", 1_500_00), ("0.05", 5),
    ("12,34,567.89", 12_34_567_89),
])
def test_an_amount_in_rupees_is_read_to_the_paisa(typed, paise):
    assert AmountField().clean(typed) == paise


def test_the_amount_field_is_defined_once():
    from portals.operations import ledger_forms

    assert not hasattr(ledger_forms, "AmountField") or ledger_forms.AmountField is AmountField


# -- the counter: a deposit for 1e2 changes nothing ------------------------------------------------


@pytest.fixture
def counter(client, db):
    branch = funded_branch()
    supervisor = supervisor_for(branch, mfa=True)
    teller = teller_with_open_till(branch, supervisor, mfa=True)
    account = open_account(branch, teller, supervisor, balance=20_000_00)
    client.force_login(teller)
    return teller, account


@pytest.mark.parametrize("change, message", [
    ({"amount": "1e2"}, IN_WORDS),
    ({"amount": "１００"}, IN_WORDS),
    ({"n100": "１"}, "count of ₹100 notes as a whole number"),
    ({"n100": "¹"}, "count of ₹100 notes as a whole number"),
    ({"n100": "١"}, "count of ₹100 notes as a whole number"),
])
def test_a_counter_deposit_in_another_notation_changes_nothing(client, counter, change, message):
    teller, account = counter
    data = {"account": account.number, "amount": "100", "n100": "1", "idempotency_key": key(), **change}
    response = client.post(reverse("teller:deposit"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CounterTransaction.objects.exists()
    assert find_till(teller).counts == OPENING
    assert fresh(account).balance == 20_000_00


def test_a_counter_deposit_in_plain_rupees_still_posts(client, counter):
    teller, account = counter
    data = {"account": account.number, "amount": "10,000", "n500": "20", "idempotency_key": key()}
    response = client.post(reverse("teller:deposit"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert fresh(account).balance == 30_000_00
    assert find_till(teller).counts == OPENING + Denominations(n500=20)


# -- the journal's lines: the count is capped before anything is built ----------------------------


@pytest.fixture
def chart(db):
    return ensure_standard_chart([("000001", "Fort")])


@pytest.fixture
def ops(client, chart):
    client.force_login(make_user(Role.OPERATIONS))


@pytest.mark.parametrize("action", ["add", "remove-2", "recalc", "submit"])
@pytest.mark.parametrize("total, message", [
    (str(10**20), "A journal has at most 40 lines"),
    ("41", "A journal has at most 40 lines"),
    ("x", "reload the page"),
    ("-1", "reload the page"),
    ("１２", "reload the page"),
])
def test_a_hostile_line_count_builds_few_lines_and_queues_nothing(client, ops, chart, action, total, message,
                                                                   lines_built):
    data = journal_data("Hostile", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10"),
                                    (chart["3100"], "C", "")], action=action)
    data["lines-TOTAL_FORMS"] = total
    # The buttons post through HTMX; sending for approval is a plain POST.
    response = client.post(reverse("ops:journal-new"), data, headers={} if action == "submit" else HTMX)
    assert len(lines_built) <= MOST_LINES_BUILT, len(lines_built)
    assert response.status_code < 500
    if action != "recalc":
        assert message in response.content.decode()
    assert response.content.decode().count('data-testid="journal-line"') <= 40
    assert not ApprovalRequest.objects.exists()
    assert not JournalEntry.objects.filter(kind="manual").exists()


@pytest.mark.parametrize("field", ["INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"])
@pytest.mark.parametrize("value", [str(10**20), "x"])
def test_hostile_management_fields_queue_nothing(client, ops, chart, field, value, lines_built):
    data = journal_data("Hostile", [(chart["1901"], "D", "10"), (chart["3100"], "C", "10")])
    data[f"lines-{field}"] = value
    response = client.post(reverse("ops:journal-new"), data)
    assert len(lines_built) <= MOST_LINES_BUILT, len(lines_built)
    assert response.status_code < 500
    assert ApprovalRequest.objects.count() <= 1  # a harmless field may be ignored; nothing else is queued


def test_a_forty_first_line_is_refused_with_the_reason(client, ops, chart):
    lines = [(chart["1901"], "D", "1")] * 20 + [(chart["3100"], "C", "1")] * 20
    response = client.post(reverse("ops:journal-new"), journal_data("Full", lines, action="add"), headers=HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="journal-line"') == 40
    assert "A journal has at most 40 lines" in page
    assert not ApprovalRequest.objects.exists()


def test_forty_lines_still_go_for_approval(client, ops, chart):
    lines = [(chart["1901"], "D", "1")] * 20 + [(chart["3100"], "C", "1")] * 20
    response = client.post(reverse("ops:journal-new"), journal_data("Full", lines))
    assert response.status_code == 302
    assert len(ApprovalRequest.objects.get().payload["lines"]) == 40


# -- filters: the queue's amount filter reads rupees by the same rule -------------------------------


def test_the_approval_queue_reads_its_amount_filter_by_the_one_rule(client, db):
    from banking.approvals.tests.factories import make_request, registered_test_kind
    from banking.testing import make_branch

    branch = make_branch()
    teller, supervisor = make_user(Role.TELLER, branch=branch), make_user(Role.SUPERVISOR, branch=branch)
    with registered_test_kind():
        large = make_request(teller, amount=2_00_000_00, summary="A large one")
        small = make_request(teller, amount=500_00, summary="A small one")
        client.force_login(supervisor)
        url = reverse("supervisor:queue")
        grouped = client.get(url, {"amount_min": "1,00,000"}).content.decode()
        assert large.summary in grouped and small.summary not in grouped
        refused = client.get(url, {"amount_min": "1e2"}).content.decode()
        assert IN_WORDS in refused


@pytest.mark.parametrize("typed", ["1e2", "NaN", "１２３", "-5", "0"])
def test_the_inbound_simulator_reads_its_amount_by_the_one_rule(db, typed):
    from django.core.management import CommandError, call_command

    from banking.payments.models import Payment

    with pytest.raises(CommandError) as caught:
        call_command("simulate_inbound", "--rail", "IMPS", "--amount", typed, "--account", "99999999999")
    assert "Enter the amount in rupees" in str(caught.value) or "above zero" in str(caught.value)
    assert not Payment.objects.exists()
