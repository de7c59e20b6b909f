"""The teller's counter and the supervisor's cash screens, through the browser's eyes:
happy paths, refusals in the teller's words, the live fragments and their query counts."""

import html
import re
import time

import pytest
from django.urls import reverse

from banking.approvals.actions import approve_request, reject_request
from banking.approvals.models import ApprovalRequest
from banking.core.identifiers import with_check_digit
from banking.core.money import format_money
from banking.deposits.models import DepositStatus
from banking.teller.actions import (
    close_till,
    find_till,
    issue_cheque_book,
    pay_cash_withdrawal,
    request_cash_from_vault,
    take_cash_deposit,
)
from banking.teller.denominations import FIELDS, Denominations
from banking.teller.models import BranchDay, CounterTransaction, TillDay
from banking.teller.tests.factories import (
    OPENING,
    VAULT_CASH,
    a_day_of_cash_then_the_next,
    fresh,
    funded_branch,
    give_specimens,
    key,
    open_account,
    set_status,
    supervisor_for,
    teller_with_open_till,
    vault_of,
)
from banking.testing import make_user
from banking.users.roles import Role

HTMX = {"HX-Request": "true"}


@pytest.fixture
def branch(db):
    return funded_branch()


@pytest.fixture
def supervisor(branch):
    return supervisor_for(branch, mfa=True)


@pytest.fixture
def teller(branch, supervisor):
    return teller_with_open_till(branch, supervisor, mfa=True)


@pytest.fixture
def account(branch, teller, supervisor):
    return open_account(branch, teller, supervisor, balance=20_000_00)


@pytest.fixture
def signed_in(client, teller):
    client.force_login(teller)
    return client


def cash(counts, **fields):
    data = {name: str(value) for name, value in counts.as_dict().items() if value}
    data.update(fields)
    return data


def deposit_data(account, amount="1,500", counts=Denominations(n500=3), token=None, **extra):
    return cash(counts, account=account.number, amount=amount, idempotency_key=token or key(), **extra)


def text(response):
    """What the page says, with HTML entities (an escaped apostrophe) read back."""
    return html.unescape(response.content.decode())


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def words(fragment):
    """The text a person reads, tags dropped and spaces squeezed: table rows read
    as "₹500 101 ₹50,500.00"."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def between(page, start, end):
    """The part of the page from the first `start` to the next `end`."""
    head = page.index(start)
    return page[head:page.index(end, head)]


# -- the deposit screen ----------------------------------------------------------------------


def test_the_deposit_screen_is_one_form_for_the_keyboard(signed_in):
    response = signed_in.get(reverse("teller:deposit"))
    assert response.status_code == 200
    html = text(response)
    assert 'accesskey="a"' in html and 'accesskey="m"' in html and 'accesskey="n"' in html
    assert 'name="idempotency_key"' in html and "autofocus" in html
    assert 'data-cbs-next="id_amount"' in html and "Till open" in html
    assert f'hx-get="{reverse("teller:account-lookup")}?purpose=deposit"' in html
    # The seven counts, each under its own name, in the order of the notes.
    positions = [html.index(f'name="{name}"') for name in FIELDS]
    assert positions == sorted(positions)
    form = response.context["form"]
    assert [form.fields[name].denomination for name in FIELDS] == FIELDS


def test_a_deposit_posts_and_shows_the_receipt(signed_in, teller, account):
    response = signed_in.post(reverse("teller:deposit"), deposit_data(account, "1,500.00"))
    txn = CounterTransaction.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("teller:transaction", args=[txn.pk])
    receipt = signed_in.get(response["Location"])
    assert "Cash deposit receipt" in text(receipt) and "₹1,500.00" in text(receipt)
    assert "Rupees One Thousand Five Hundred Only" in text(receipt)
    assert txn.entry.number in text(receipt)
    assert fresh(account).balance == 21_500_00


def test_a_double_pressed_enter_posts_once(signed_in, account):
    data = deposit_data(account)
    first = signed_in.post(reverse("teller:deposit"), data)
    second = signed_in.post(reverse("teller:deposit"), data)
    assert first["Location"] == second["Location"]
    assert CounterTransaction.objects.count() == 1
    assert fresh(account).balance == 21_500_00


@pytest.mark.parametrize("change, message", [
    ({"account": "123456789012345"}, "check digit does not match"),
    ({"account": "12345"}, "15 digits; this one has 5"),
    ({"amount": "2,000"}, "add up to ₹1,500.00, ₹500.00 less than the amount of ₹2,000.00"),
    ({"n500": "-3"}, "count of ₹500 notes cannot be negative"),
    ({"n100": "two"}, "count of ₹100 notes as a whole number"),
    ({"amount": "abc"}, "Enter the amount in rupees, like 1,500 or 1500.50"),
    ({"amount": "1500.50"}, "whole rupees"),
])
def test_bad_input_at_the_counter_is_refused_in_words(signed_in, teller, account, change, message):
    response = signed_in.post(reverse("teller:deposit"), {**deposit_data(account), **change})
    assert response.status_code == 200
    assert message in text(response)
    assert not CounterTransaction.objects.exists()
    assert find_till(teller).counts == OPENING
    assert fresh(account).balance == 20_000_00


def test_a_frozen_account_is_refused_against_the_account_field(signed_in, supervisor, account):
    from banking.deposits.models import DepositStatus
    from banking.teller.tests.factories import set_status

    frozen = set_status(account, DepositStatus.FROZEN, supervisor)
    response = signed_in.post(reverse("teller:deposit"), deposit_data(frozen))
    assert "frozen: no money can go in or out" in text(response)
    assert not CounterTransaction.objects.exists()


def test_a_session_that_expired_mid_entry_posts_nothing(client, teller, account):
    client.force_login(teller)
    session = client.session
    session["cbs_last_seen"] = int(time.time()) - 16 * 60
    session.save()
    response = client.post(reverse("teller:deposit"), deposit_data(account))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "next=/teller/deposit/" in response["Location"]
    assert not CounterTransaction.objects.exists()
    assert fresh(account).balance == 20_000_00
    assert find_till(teller).counts == OPENING
    sign_in = client.get(response["Location"])
    assert sign_in.status_code == 200
    assert "You were signed out after 15 minutes without activity. Sign in again to continue." in text(sign_in)


def deposits(teller, account, times):
    for _ in range(times):
        take_cash_deposit(actor=teller, account=account, amount=500_00, counts=Denominations(n500=1),
                          idempotency_key=key())


def assert_queries_do_not_grow(limit, request, add_transactions, django_assert_max_num_queries):
    """At most `limit` queries, and no more after many more transactions."""
    request()  # the session's first touch
    add_transactions(1)
    with django_assert_max_num_queries(limit) as few:
        request()
    add_transactions(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        request()


def test_the_deposit_screen_runs_a_bounded_number_of_queries(signed_in, teller, account,
                                                              django_assert_max_num_queries):
    assert_queries_do_not_grow(
        16, lambda: signed_in.get(reverse("teller:deposit") + f"?account={account.number}"),
        lambda n: deposits(teller, account, n), django_assert_max_num_queries)


# -- the account look-up -----------------------------------------------------------------------


def test_the_look_up_shows_the_holder_status_and_balance(signed_in, account):
    response = signed_in.get(reverse("teller:account-lookup"), {"account": account.number, "purpose": "deposit"},
                             headers=HTMX)
    assert account.customer.display_name in text(response)
    assert "Active" in text(response) and "₹20,000.00" in text(response)
    assert "<html" not in text(response)


def test_the_look_up_shows_the_holders_photograph_and_signature_to_pay_out(signed_in, teller, account):
    photo, signature = give_specimens(account.customer, teller)
    card = text(signed_in.get(reverse("teller:account-lookup"), {"account": account.number, "purpose": "withdrawal"},
                              headers=HTMX))
    for document in (photo, signature):
        assert reverse("teller:customer-document", args=[account.customer.pk, document.pk]) in card
    assert f"Specimen signature of {account.customer.display_name}" in card
    deposit_card = text(signed_in.get(reverse("teller:account-lookup"), {"account": account.number}, headers=HTMX))
    assert "Specimen signature" not in deposit_card and f"Photograph of {account.customer.display_name}" in deposit_card
    assert signed_in.get(reverse("teller:customer-document", args=[account.customer.pk, photo.pk])).status_code == 200


def test_the_look_up_says_what_is_wrong_before_the_amount(signed_in, supervisor, account):
    lookup = reverse("teller:account-lookup")
    typing = signed_in.get(lookup, {"account": account.number[:9]}, headers=HTMX)
    assert "9 of 15 digits" in text(typing)
    wrong = account.number[:-1] + str((int(account.number[-1]) + 1) % 10)
    assert "check digit does not match" in text(signed_in.get(lookup, {"account": wrong}, headers=HTMX))
    from banking.deposits.models import DepositStatus
    from banking.teller.tests.factories import set_status

    set_status(account, DepositStatus.DEBIT_FROZEN, supervisor)
    assert "debit freeze" in signed_in.get(lookup, {"account": account.number, "purpose": "withdrawal"},
                                           headers=HTMX).text
    assert "Debit freeze: deposits are accepted" in signed_in.get(lookup, {"account": account.number},
                                                                  headers=HTMX).text


def test_the_look_up_says_a_well_formed_number_belongs_to_no_account(signed_in, account):
    unknown = with_check_digit(account.number[:8] + "999999")
    assert unknown != account.number and len(unknown) == 15
    for purpose in ("deposit", "withdrawal"):
        card = text(signed_in.get(reverse("teller:account-lookup"), {"account": unknown, "purpose": purpose},
                                  headers=HTMX))
        assert f"There is no account {unknown} at the bank." in card
        assert "check digit" not in card and account.customer.display_name not in card
        assert "Available" not in card


def test_the_look_up_says_a_closed_account_is_closed(signed_in, branch, teller, supervisor):
    empty = open_account(branch, teller, supervisor)
    closed = set_status(empty, DepositStatus.CLOSED, supervisor)
    for purpose in ("deposit", "withdrawal"):
        card = text(signed_in.get(reverse("teller:account-lookup"), {"account": closed.number, "purpose": purpose},
                                  headers=HTMX))
        assert f"Account {closed.number} is closed." in card
        assert closed.customer.display_name in card and ">Closed</span>" in card
    active = text(signed_in.get(reverse("teller:account-lookup"), {"account": open_account(
        branch, teller, supervisor).number}, headers=HTMX))
    assert "is closed" not in active and "lookup-error" not in active


def test_the_look_up_runs_a_bounded_number_of_queries(signed_in, teller, account, django_assert_max_num_queries):
    assert_queries_do_not_grow(
        9, lambda: signed_in.get(reverse("teller:account-lookup"),
                                 {"account": account.number, "purpose": "withdrawal"}, headers=HTMX),
        lambda n: deposits(teller, account, n), django_assert_max_num_queries)


# -- withdrawals and cheques -------------------------------------------------------------------


def test_a_withdrawal_over_the_tills_cash_is_refused(signed_in, teller, branch, supervisor):
    rich = open_account(branch, teller, supervisor, balance=20_00_000_00)
    data = cash(Denominations(n500=2000), account=rich.number, amount="10,00,000", idempotency_key=key())
    response = signed_in.post(reverse("teller:withdrawal"), data)
    assert "Your till holds ₹" in text(response) and "less than the ₹10,00,000.00 to pay" in text(response)
    assert not CounterTransaction.objects.exists()


def test_a_cheque_from_another_accounts_book_is_refused(signed_in, teller, branch, supervisor, account):
    other = open_account(branch, teller, supervisor, balance=1_000_00)
    book = issue_cheque_book(actor=teller, account=other, leaves=10)
    data = cash(Denominations(n500=2), account=account.number, amount="1000", cheque_number=book.first_leaf,
                idempotency_key=key())
    response = signed_in.post(reverse("teller:withdrawal"), data)
    assert "from another account's cheque book" in text(response)
    assert not CounterTransaction.objects.exists()


def test_the_withdrawal_screen_shows_signatures_and_offers_to_fill_from_the_till(signed_in, account):
    response = signed_in.get(reverse("teller:withdrawal") + f"?account={account.number}")
    assert "Specimen signature" in text(response)
    assert "Fill from my till" in text(response) and "data-available=" in text(response)


def test_a_first_cheque_number_in_other_digits_issues_no_book(signed_in, account):
    response = signed_in.post(reverse("teller:cheque-book-issue"),
                              {"account": account.number, "leaves": "10", "first_number": "１２３"}, follow=True)
    assert "Enter the cheque number in digits" in text(response)
    assert not account.cheque_books.exists()


def test_cheque_books_are_issued_and_stopped_from_the_cheques_screen(signed_in, account):
    page = signed_in.get(reverse("teller:cheques"), {"account": account.number})
    assert "No cheque book has been issued" in text(page)
    signed_in.post(reverse("teller:cheque-book-issue"), {"account": account.number, "leaves": "10"})
    first = account.cheque_books.get().first_number
    response = signed_in.post(reverse("teller:cheque-stop"),
                              {"account": account.number, "first": str(first), "last": str(first + 1),
                               "reason": "Lost in transit"}, follow=True)
    assert "Payment stopped on 2 cheques" in " ".join(messages_of(response))
    assert text(response).count("Stopped") >= 2


def test_a_leaf_is_cancelled_and_a_refusal_redraws_the_page_with_its_reason(signed_in, account):
    signed_in.post(reverse("teller:cheque-book-issue"), {"account": account.number, "leaves": "10"})
    first = account.cheque_books.get().first_number
    done = signed_in.post(reverse("teller:cheque-cancel"),
                          {"account": account.number, "number": f"{first:06d}", "reason": "Spoilt"}, follow=True)
    assert f"Cheque {first:06d} of {account.number} cancelled." in " ".join(messages_of(done))
    again = signed_in.post(reverse("teller:cheque-cancel"),
                           {"account": account.number, "number": f"{first:06d}", "reason": "Spoilt"})
    assert again.status_code == 200 and f"Cheque {first:06d} is cancelled; it cannot be" in text(again)
    assert not messages_of(again)
    missing_reason = signed_in.post(reverse("teller:cheque-stop"),
                                    {"account": account.number, "first": str(first + 1), "last": str(first + 1)})
    assert missing_reason.status_code == 200
    assert not account.cheque_books.get().cheques.filter(status="stopped").exists()


# -- over the teller's limit -------------------------------------------------------------------


def test_over_limit_cash_shows_its_status_live_then_the_receipt(client, branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_000_00, mfa=True)
    client.force_login(teller)
    response = client.post(reverse("teller:deposit"), deposit_data(account))
    txn = CounterTransaction.objects.get()
    page = client.get(response["Location"])
    assert "Waiting for a supervisor's approval" in text(page) and 'hx-trigger="every 2s"' in text(page)
    poll = client.get(response["Location"], headers={**HTMX, "X-CBS-Background": "1"})
    assert "Waiting for a supervisor" in text(poll) and "<html" not in text(poll)
    approve_request(actor=supervisor, request_id=txn.approval_id)
    poll = client.get(response["Location"], headers={**HTMX, "X-CBS-Background": "1"})
    assert "Cash deposit receipt" in text(poll) and "every 2s" not in text(poll)
    assert f"Approved by</dt><dd class=\"col-7\">{supervisor.display_name}" in text(poll)


def test_a_rejected_over_limit_deposit_shows_rejected_with_the_reason(client, branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_000_00, mfa=True)
    client.force_login(teller)
    response = client.post(reverse("teller:deposit"), deposit_data(account))
    txn = CounterTransaction.objects.get()
    reject_request(actor=supervisor, request_id=txn.approval_id, reason="Customer could not show the slip")
    for page in (client.get(response["Location"]),
                 client.get(response["Location"], headers={**HTMX, "X-CBS-Background": "1"})):
        assert "Rejected: nothing was posted" in text(page)
        assert "Reason: Customer could not show the slip" in words(page.content.decode())
        assert "Hand the cash back to the customer." in text(page)
        assert "Cash deposit receipt" not in text(page) and "every 2s" not in text(page)
    assert fresh(account).balance == 20_000_00 and find_till(teller).counts == OPENING


# -- transfers at the counter --------------------------------------------------------------------


def transfer_data(account, to_account, amount="2,500.50", **extra):
    return {"account": account.number, "to_account": to_account.number, "amount": amount,
            "idempotency_key": key(), **extra}


def test_a_transfer_posts_and_shows_the_receipt(signed_in, branch, teller, supervisor, account):
    other = open_account(branch, teller, supervisor)
    response = signed_in.post(reverse("teller:transfer"), transfer_data(account, other))
    txn = CounterTransaction.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("teller:transaction", args=[txn.pk])
    receipt = text(signed_in.get(response["Location"]))
    assert "Transfer receipt" in receipt and "₹2,500.50" in receipt
    assert "Rupees Two Thousand Five Hundred and Fifty Paise Only" in receipt
    assert account.number in receipt and other.number in receipt and txn.entry.number in receipt
    assert fresh(account).balance == 17_499_50 and fresh(other).balance == 2_500_50
    assert find_till(teller).counts == OPENING  # no cash moves


@pytest.mark.parametrize("case, message", [
    ("same", "The two accounts are the same; a transfer needs two different accounts."),
    ("debit_frozen", "has a debit freeze: money can be paid in, not taken out."),
    ("too_much", "has ₹20,000.00 available, less than ₹20,000.01."),
])
def test_bad_transfers_are_refused_in_words_and_change_nothing(signed_in, branch, teller, supervisor, account,
                                                               case, message):
    other = open_account(branch, teller, supervisor, balance=1_000_00)
    source, target, amount = account, other, "2,500"
    if case == "same":
        target = account
    elif case == "debit_frozen":
        source = set_status(account, DepositStatus.DEBIT_FROZEN, supervisor)
    else:
        amount = "20,000.01"
    response = signed_in.post(reverse("teller:transfer"), transfer_data(source, target, amount))
    assert response.status_code == 200
    assert message in text(response)
    assert not CounterTransaction.objects.exists()
    assert fresh(account).balance == 20_000_00 and fresh(other).balance == 1_000_00


def test_a_transfer_above_the_tellers_limit_waits_for_approval(client, branch, supervisor, account):
    teller = teller_with_open_till(branch, supervisor, cash_limit=1_000_00, mfa=True)
    other = open_account(branch, teller, supervisor)
    client.force_login(teller)
    response = client.post(reverse("teller:transfer"), transfer_data(account, other, "1,000.01"))
    txn = CounterTransaction.objects.get()
    assert txn.approval.kind == "teller.cash_over_limit" and txn.approval.is_pending
    page = client.get(response["Location"])
    assert "Waiting for a supervisor's approval" in text(page) and "Transfer receipt" not in text(page)
    assert fresh(account).balance == 20_000_00 and fresh(other).balance == 0
    approve_request(actor=supervisor, request_id=txn.approval_id)
    poll = client.get(response["Location"], headers={**HTMX, "X-CBS-Background": "1"})
    assert "Transfer receipt" in text(poll) and "₹1,000.01" in text(poll)
    assert fresh(account).balance == 18_999_99 and fresh(other).balance == 1_000_01


def test_a_counter_transfer_is_reversed_through_a_supervisor(signed_in, branch, teller, supervisor, account):
    other = open_account(branch, teller, supervisor)
    signed_in.post(reverse("teller:transfer"), transfer_data(account, other, "3,000"))
    txn = CounterTransaction.objects.get()
    signed_in.post(reverse("teller:transaction-reverse", args=[txn.pk]), {"reason": "Wrong beneficiary"})
    txn.refresh_from_db()
    approve_request(actor=supervisor, request_id=txn.reversal_request_id)
    assert "Reversed" in text(signed_in.get(reverse("teller:transaction", args=[txn.pk])))
    assert fresh(account).balance == 20_000_00 and fresh(other).balance == 0


# -- the counter's home and live feed -------------------------------------------------------------


def test_the_feed_shows_the_branchs_transactions_newest_first(signed_in, branch, supervisor, account):
    colleague = teller_with_open_till(branch, supervisor)
    take_cash_deposit(actor=colleague, account=account, amount=700_00, counts=Denominations(n500=1, n200=1),
                      idempotency_key=key())
    take_cash_deposit(actor=colleague, account=account, amount=300_00, counts=Denominations(n100=3),
                      idempotency_key=key())
    response = signed_in.get(reverse("teller:home"), headers={**HTMX, "X-CBS-Background": "1"})
    assert "<html" not in text(response) and 'id="counter-live"' in text(response)
    assert text(response).index("₹300.00") < text(response).index("₹700.00")
    assert colleague.display_name in text(response)


def test_the_home_shows_my_till_by_denomination_and_my_days_totals(signed_in, branch, teller, supervisor,
                                                                       account):
    take_cash_deposit(actor=teller, account=account, amount=1_500_00, counts=Denominations(n500=3),
                      idempotency_key=key())
    pay_cash_withdrawal(actor=teller, account=fresh(account), amount=1_200_00,
                        counts=Denominations(n500=2, n100=2), idempotency_key=key())
    colleague = teller_with_open_till(branch, supervisor)  # the colleague's cash is not in my day
    take_cash_deposit(actor=colleague, account=fresh(account), amount=700_00, counts=Denominations(n500=1, n200=1),
                      idempotency_key=key())
    for response in (signed_in.get(reverse("teller:home")),
                     signed_in.get(reverse("teller:home"), headers={**HTMX, "X-CBS-Background": "1"})):
        page = response.content.decode()
        till = words(between(page, 'id="till-heading"', "</table>"))
        for row in ("₹500 101 ₹50,500.00", "₹200 50 ₹10,000.00", "₹100 98 ₹9,800.00", "₹50 40 ₹2,000.00",
                    "₹20 50 ₹1,000.00", "₹10 50 ₹500.00", "Coins — ₹500.00", "Total ₹74,300.00"):
            assert row in till
        day = words(between(page, 'data-testid="day-totals"', "</dl>"))
        assert "Deposits (1) ₹1,500.00" in day and "Withdrawals (1) ₹1,200.00" in day
        assert "Net cash ₹300.00" in day and "Transfers (0) ₹0.00" in day


def test_the_feed_runs_a_bounded_number_of_queries(signed_in, teller, account, django_assert_max_num_queries):
    assert_queries_do_not_grow(
        14, lambda: signed_in.get(reverse("teller:home"), headers={**HTMX, "X-CBS-Background": "1"}),
        lambda n: deposits(teller, account, n), django_assert_max_num_queries)


def test_the_counter_is_for_staff_at_the_counter(client, db):
    client.force_login(make_user(Role.CUSTOMER))
    assert client.get(reverse("teller:deposit")).status_code == 403
    assert client.get(reverse("teller:account-lookup")).status_code == 403


def test_a_transaction_of_another_branch_is_not_found(client, teller, account):
    take_cash_deposit(actor=teller, account=account, amount=500_00, counts=Denominations(n500=1),
                      idempotency_key=key())
    elsewhere = funded_branch()
    stranger = teller_with_open_till(elsewhere, supervisor_for(elsewhere), mfa=True)
    client.force_login(stranger)
    assert client.get(reverse("teller:transaction", args=[CounterTransaction.objects.get().pk])).status_code == 404


def test_a_reversal_is_asked_of_a_supervisor(signed_in, teller, supervisor, account):
    txn = take_cash_deposit(actor=teller, account=account, amount=500_00, counts=Denominations(n500=1),
                            idempotency_key=key())
    response = signed_in.post(reverse("teller:transaction-reverse", args=[txn.pk]), {"reason": "Wrong account"})
    assert response["Location"] == reverse("teller:my-requests")
    txn.refresh_from_db()
    approve_request(actor=supervisor, request_id=txn.reversal_request_id)
    page = signed_in.get(reverse("teller:transaction", args=[txn.pk]))
    assert "Reversed" in text(page)


def test_a_colleague_is_not_offered_the_reversal_of_another_tills_cash(client, branch, teller, supervisor, account):
    txn = take_cash_deposit(actor=teller, account=account, amount=500_00, counts=Denominations(n500=1),
                            idempotency_key=key())
    url = reverse("teller:transaction", args=[txn.pk])
    reverse_url = reverse("teller:transaction-reverse", args=[txn.pk])
    client.force_login(teller_with_open_till(branch, supervisor, mfa=True))
    receipt = client.get(url)
    assert receipt.status_code == 200 and reverse_url not in receipt.text
    refused = client.post(reverse_url, {"reason": "Not mine"}, follow=True)
    assert "its teller or a supervisor asks for its reversal" in text(refused)
    txn.refresh_from_db()
    assert txn.reversal_request_id is None
    client.force_login(teller)
    assert reverse_url in client.get(url).text


# -- the till's holding limit ------------------------------------------------------------------------

RETURN_PROMPT = "over the holding limit"


def test_over_the_holding_limit_the_counter_asks_for_cash_back_to_the_vault(signed_in, teller, account):
    till = find_till(teller)
    till.holding_limit = OPENING.value  # exactly what the till holds
    till.save(update_fields=["holding_limit"])
    at_limit = take_cash_deposit(actor=teller, account=account, amount=100_00, counts=Denominations(n100=1),
                                 idempotency_key=key())
    till.holding_limit = OPENING.value + 100_00
    till.save(update_fields=["holding_limit"])
    receipt = text(signed_in.get(reverse("teller:transaction", args=[at_limit.pk])))
    assert "Cash deposit receipt" in receipt and "holding limit" not in receipt
    assert "holding limit" not in text(signed_in.get(reverse("teller:home")))
    assert "holding limit" not in text(signed_in.get(reverse("teller:deposit")))
    assert not signed_in.get(reverse("teller:till-return")).context["form"].initial.get("n500")

    over = take_cash_deposit(actor=teller, account=fresh(account), amount=600_00,
                             counts=Denominations(n500=1, n100=1), idempotency_key=key())
    receipt = text(signed_in.get(reverse("teller:transaction", args=[over.pk])))
    assert "Your till holds ₹74,700.00, ₹600.00 over its holding limit of ₹74,100.00." in receipt
    assert reverse("teller:till-return") in receipt
    home = words(signed_in.get(reverse("teller:home")).content.decode())
    assert "₹600.00 over the holding limit of ₹74,100.00. Return cash to the vault" in home
    strip = words(between(signed_in.get(reverse("teller:deposit")).content.decode(), 'data-testid="till-strip"',
                          "</div>"))
    assert "₹600.00 over the holding limit: return cash to the vault" in strip
    # The return screen offers the excess, largest notes first.
    suggestion = signed_in.get(reverse("teller:till-return")).context["form"].initial
    assert Denominations(**{name: suggestion.get(name, 0) for name in FIELDS}) == Denominations(n500=1, n100=1)


# -- the till ---------------------------------------------------------------------------------------


def test_asking_for_cash_and_opening_the_till(client, branch, supervisor):
    newcomer = make_user(Role.TELLER, branch=branch)
    client.force_login(newcomer)
    assert "Not open" in client.get(reverse("teller:till")).text
    client.post(reverse("teller:till-request"), cash(Denominations(n500=10), idempotency_key=key()))
    waiting = client.get(reverse("teller:till"))
    assert "Issue ₹5,000.00 from the vault" in text(waiting)
    approve_request(actor=supervisor, request_id=ApprovalRequest.objects.get(kind="teller.vault_issue").pk)
    wrong = client.post(reverse("teller:till-open"), cash(Denominations(n500=9), idempotency_key=key()))
    assert "You counted ₹4,500.00 but the vault issued ₹5,000.00" in text(wrong)
    opened = client.post(reverse("teller:till-open"), cash(Denominations(n500=10), idempotency_key=key()),
                         follow=True)
    assert "Your till is open" in " ".join(messages_of(opened))


def test_closing_with_a_shortage_flags_it_to_the_supervisor(client, teller, supervisor):
    client.force_login(teller)
    response = client.post(reverse("teller:till-close"),
                           cash(OPENING - Denominations(n100=1), idempotency_key=key()), follow=True)
    assert "short by ₹100.00, posted to teller suspense" in " ".join(messages_of(response))
    client.force_login(supervisor)
    tills = client.get(reverse("supervisor:tills"))
    assert "Short by ₹100.00" in text(tills) and "Cash differences today" in text(tills)
    report = client.get(reverse("supervisor:cash-differences"))
    assert "Short by ₹100.00" in text(report) and teller.display_name in text(report)


def test_the_supervisor_closes_the_branch_when_every_till_is_signed_off(client, teller, supervisor, branch):
    client.force_login(supervisor)
    refused = client.post(reverse("supervisor:branch-close"), follow=True)
    assert "cannot close yet" in " ".join(messages_of(refused))
    day = close_till(actor=teller, counted=OPENING, idempotency_key=key())
    approve_request(actor=supervisor, request_id=day.close_request_id)
    done = client.post(reverse("supervisor:branch-close"), follow=True)
    assert "closed its cash" in " ".join(messages_of(done))
    assert TillDay.objects.get().status == "signed_off"


@pytest.fixture
def head_teller(branch):
    """The head teller of a funded branch that has no till yet."""
    return supervisor_for(branch, mfa=True)


def test_the_branch_does_not_close_while_a_till_still_holds_cash(client, branch, head_teller):
    newcomer = make_user(Role.TELLER, branch=branch, mfa=False)
    # Cash issued to the till, which was never opened, let alone returned.
    approve_request(actor=head_teller,
                    request_id=request_cash_from_vault(actor=newcomer, counts=Denominations(n500=10)).pk)
    client.force_login(head_teller)
    refused = client.post(reverse("supervisor:branch-close"), follow=True)
    assert messages_of(refused) == [f"The branch cannot close yet: Till of {newcomer.display_name} still holds "
                                    "₹5,000.00; its teller opens and closes the till to return it to the vault."]
    assert not BranchDay.objects.exists()
    assert find_till(newcomer).counts == Denominations(n500=10)
    assert vault_of(branch).counts == VAULT_CASH - Denominations(n500=10)


def test_the_branch_does_not_close_while_cash_requests_wait(client, branch, head_teller):
    newcomer = make_user(Role.TELLER, branch=branch, mfa=False)
    waiting = request_cash_from_vault(actor=newcomer, counts=Denominations(n500=10))
    client.force_login(head_teller)
    refused = client.post(reverse("supervisor:branch-close"), follow=True)
    assert messages_of(refused) == ["The branch cannot close yet: 1 cash request is still waiting for approval."]
    assert not BranchDay.objects.exists()
    request_cash_from_vault(actor=newcomer, counts=Denominations(n100=10))
    refused = client.post(reverse("supervisor:branch-close"), follow=True)
    assert messages_of(refused) == ["The branch cannot close yet: 2 cash requests are still waiting for approval."]
    assert not BranchDay.objects.exists() and vault_of(branch).counts == VAULT_CASH
    assert ApprovalRequest.objects.get(pk=waiting.pk).is_pending
    for request in ApprovalRequest.objects.filter(kind="teller.vault_issue"):
        reject_request(actor=head_teller, request_id=request.pk, reason="Not today")
    done = client.post(reverse("supervisor:branch-close"), follow=True)
    assert "closed its cash" in " ".join(messages_of(done)) and BranchDay.objects.count() == 1


def test_the_cash_position_report(client, teller, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("supervisor:cash-position"))
    assert response.status_code == 200
    assert "Vault," in text(response) and f"Till of {teller.display_name}" in text(response)
    assert "Branch total" in text(response)
    assert "no cash position after" in client.get(reverse("supervisor:cash-position"), {"date": "2999-01-01"}).text
    assert client.get(reverse("supervisor:cash-position"), {"date": "garbage"}).status_code == 200


def test_tellers_cannot_open_the_supervisors_cash_screens(client, teller):
    client.force_login(teller)
    for name in ("supervisor:tills", "supervisor:cash-position", "supervisor:cash-differences"):
        assert client.get(reverse(name)).status_code == 403


def test_the_cash_position_of_an_earlier_date_shows_that_days_figures(client, branch, teller, supervisor, account):
    first = a_day_of_cash_then_the_next(teller, account)
    teller_with_open_till(branch, supervisor, Denominations(n200=5))  # next day's cash
    client.force_login(supervisor)
    page = client.get(reverse("supervisor:cash-position"), {"date": first.isoformat()}).content.decode()
    assert page.count('data-testid="cash-position-box"') == 3  # vault, the one till of that day, total
    till = words(between(page, f'aria-label="Till of {teller.display_name}"', "</section>"))
    # Denomination, opening, receipts, payments, closing
    assert "₹500 ₹0.00 ₹51,500.00 ₹1,000.00 ₹50,500.00" in till
    assert "₹200 ₹0.00 ₹10,000.00 ₹0.00 ₹10,000.00" in till
    assert "Total ₹0.00 ₹75,500.00 ₹1,000.00 ₹74,500.00" in till
    vault = words(between(page, 'aria-label="Vault,', "</section>"))
    assert "₹200 ₹0.00 ₹2,00,000.00 ₹10,000.00 ₹1,90,000.00" in vault  # not the next day's issue
    assert (f"Total ₹0.00 {format_money(VAULT_CASH.value)} {format_money(OPENING.value)} "
            f"{format_money(VAULT_CASH.value - OPENING.value)}") in vault
    total = words(between(page, 'aria-label="Branch total"', "</section>"))
    assert (f"Total ₹0.00 {format_money(VAULT_CASH.value + 1_500_00)} ₹1,000.00 "
            f"{format_money(VAULT_CASH.value + 500_00)}") in total
    later = client.get(reverse("supervisor:cash-position")).content.decode()
    till = words(between(later, f'aria-label="Till of {teller.display_name}"', "</section>"))
    assert "Total ₹74,500.00 ₹0.00 ₹0.00 ₹74,500.00" in till
