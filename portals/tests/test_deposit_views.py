"""Teller and customer screens for deposit accounts and statements."""

import datetime
import io
import tracemalloc

import pytest
from django.core import mail
from django.http import StreamingHttpResponse
from django.urls import reverse

from banking.approvals.actions import approve_request
from banking.approvals.models import ApprovalRequest
from banking.deposits import internet_banking as ib
from banking.deposits.models import DepositAccount, DepositStatus
from banking.deposits.tests.factories import Bank, make_customer
from banking.ledger.models import Hold, JournalEntry, Posting
from banking.testing import PASSWORD, make_branch, make_user

HTMX = {"HX-Request": "true"}


@pytest.fixture
def bank(db):
    return Bank()


def customer_login(bank, customer=None):
    customer = customer or bank.customer
    user = make_user("customer", username=f"c{customer.cif}")
    customer.user = user
    customer.save(update_fields=["user"])
    return user


# -- teller: the Accounts section of customer 360 -------------------------------------


def test_accounts_fragment_lists_balances_holds_and_actions(client, bank):
    account = bank.open_account(deposit=12_345_00)
    from banking.deposits.actions import place_account_hold

    place_account_hold(actor=bank.teller, account=account, amount=345_00, reason="Disputed credit")
    client.force_login(bank.teller)
    response = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}), headers=HTMX)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and 'id="customer-accounts"' in html
    assert account.number in html and "₹12,345.00" in html and "₹12,000.00" in html
    assert "Disputed credit" in html and "Transfer in" in html
    assert reverse("teller:account-freeze", args=[account.number]) in html
    assert reverse("teller:statement", args=[account.number]) in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_accounts_page_works_without_htmx(client, bank):
    client.force_login(bank.teller)
    response = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}))
    assert response.status_code == 200 and "<html" in response.text and bank.customer.cif in response.text


def test_a_teller_at_another_branch_sees_the_customer(client, bank):
    elsewhere = make_user("teller", branch=make_branch())
    account = bank.open_account(deposit=100_00)
    client.force_login(elsewhere)
    response = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}))
    assert response.status_code == 200 and account.number in response.text


def test_the_accounts_screens_ask_no_more_queries_for_more_accounts(client, bank, django_assert_max_num_queries):
    """The teller's Accounts section and the customer's home: one savings account,
    then six accounts of every kind (joint, current, fixed and recurring), each
    with its recent transactions, holders and source account."""
    from banking.deposits.actions import open_fixed_deposit, open_recurring_deposit

    def page(person, url, limit):
        client.force_login(person)
        client.get(url)  # the session's first touch
        with django_assert_max_num_queries(limit) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return response.text, len(queries.captured_queries)

    savings = bank.open_account(deposit=50_000_00)
    screens = [(bank.teller, reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk})),
               (customer_login(bank), reverse("customer:home"))]
    counts = [page(person, url, 40)[1] for person, url in screens]
    second = make_customer(branch=bank.branch, created_by=bank.teller)
    joint = bank.open_account(joint_holders=[second], mode_of_operation="either_or_survivor", deposit=700_00)
    current = bank.open_account(product="CA", deposit=20_000_00)
    fd = open_fixed_deposit(actor=bank.teller, source=savings, principal=10_000_00, months=12,
                            idempotency_key="fd-queries")
    rd = open_recurring_deposit(actor=bank.teller, source=savings, instalment=1_000_00, months=12,
                                idempotency_key="rd-queries")
    bank.open_account(deposit=100_00)
    for (person, url), count in zip(screens, counts, strict=True):
        text, _ = page(person, url, count)
        assert all(account.number in text for account in (joint, current, fd, rd))
    teller_page, _ = page(*screens[0], counts[0])
    assert second.display_name in teller_page and savings.number in teller_page


def test_customers_cannot_reach_the_teller_fragment(client, bank):
    client.force_login(customer_login(bank))
    response = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}))
    assert response.status_code == 403


# -- teller: opening -------------------------------------------------------------------


def test_teller_requests_an_account_opening(client, bank):
    client.force_login(bank.teller)
    url = reverse("teller:account-open", kwargs={"pk": bank.customer.pk})
    assert client.get(url).status_code == 200
    response = client.post(url, {"product": "SB", "mode_of_operation": "self", "nominee_name": "Rohit Sharma",
                                 "nominee_relationship": "Spouse", "token": "t1"})
    assert response.status_code == 302
    account = DepositAccount.objects.get(customer=bank.customer)
    assert account.status == DepositStatus.PENDING and account.nominee_name == "Rohit Sharma"
    assert account.opening_request.amount == 0


def test_an_opening_with_cash_counts_the_notes_into_the_tellers_till(client, bank):
    from banking.teller.actions import find_till, fund_vault
    from banking.teller.denominations import Denominations
    from banking.teller.models import CounterTransaction
    from banking.teller.tests.factories import OPENING, VAULT_CASH, key, teller_with_open_till

    fund_vault(actor=None, branch=bank.branch, counts=VAULT_CASH, idempotency_key=key())
    teller = teller_with_open_till(bank.branch, bank.supervisor, mfa=True)
    client.force_login(teller)
    url = reverse("teller:account-open", kwargs={"pk": bank.customer.pk})
    page = client.get(url).text
    assert "Notes and coins of the initial deposit" in page and 'name="n500"' in page
    form = {"product": "SB", "mode_of_operation": "self", "initial_deposit": "5,000", "token": "t9"}
    refused = client.post(url, {**form, "n500": "9"})
    assert refused.status_code == 200 and "₹500.00 less than the amount of ₹5,000.00" in refused.text
    no_amount = client.post(url, {**form, "initial_deposit": "", "n500": "10"})
    assert "Enter the initial deposit the notes and coins add up to" in no_amount.text
    assert not DepositAccount.objects.filter(customer=bank.customer).exists()

    assert client.post(url, {**form, "n500": "10"}).status_code == 302
    account = DepositAccount.objects.get(customer=bank.customer)
    assert account.opening_request.amount == 5_000_00
    txn = CounterTransaction.objects.get(account=account)
    assert txn.till == find_till(teller) and txn.counts == Denominations(n500=10)
    approve_request(actor=bank.supervisor, request_id=account.opening_request_id)
    assert find_till(teller).counts == OPENING + Denominations(n500=10)


def test_an_unverified_customer_is_refused_on_the_form(client, bank):
    draft = make_customer(branch=bank.branch, created_by=bank.teller, verified=False)
    client.force_login(bank.teller)
    response = client.post(reverse("teller:account-open", kwargs={"pk": draft.pk}),
                           {"product": "SB", "mode_of_operation": "self", "token": "t2"})
    assert response.status_code == 200 and "not KYC-verified" in response.text
    assert not DepositAccount.objects.exists()


def test_an_unknown_product_is_refused_on_the_form(client, bank):
    client.force_login(bank.teller)
    response = client.post(reverse("teller:account-open", kwargs={"pk": bank.customer.pk}),
                           {"product": "GOLD", "mode_of_operation": "self", "token": "t3"})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert not DepositAccount.objects.exists()


def test_fixed_deposit_shows_figures_before_opening(client, bank):
    savings = bank.open_account(deposit=50_000_00)
    client.force_login(bank.teller)
    url = reverse("teller:fd-open", kwargs={"pk": bank.customer.pk})
    data = {"source": savings.pk, "principal": "10000", "months": "12", "days": "0",
            "maturity_instruction": "pay_out", "token": "fd-t"}
    preview = client.post(url, {**data, "action": "preview"}, headers=HTMX)
    assert preview.status_code == 200 and 'data-testid="maturity-amount"' in preview.text
    assert "6.80% p.a." in preview.text
    assert not DepositAccount.objects.filter(product__code="FD").exists()
    confirm = client.post(url, {**data, "action": "confirm"})
    assert confirm.status_code == 302
    assert DepositAccount.objects.get(product__code="FD").principal == 10_000_00


def test_fixed_deposit_term_outside_the_range_is_shown(client, bank):
    savings = bank.open_account(deposit=50_000_00)
    client.force_login(bank.teller)
    response = client.post(reverse("teller:fd-open", kwargs={"pk": bank.customer.pk}),
                           {"source": savings.pk, "principal": "10000", "months": "0", "days": "3",
                            "maturity_instruction": "pay_out", "token": "x", "action": "preview"})
    assert "outside that range" in response.text


@pytest.mark.parametrize("months", ["１２", "١٢", "1e1", "12.0"])
def test_a_term_in_other_digits_is_refused_in_words(client, bank, months):
    savings = bank.open_account(deposit=50_000_00)
    client.force_login(bank.teller)
    response = client.post(reverse("teller:fd-open", kwargs={"pk": bank.customer.pk}),
                           {"source": savings.pk, "principal": "10000", "months": months, "days": "0",
                            "maturity_instruction": "pay_out", "token": "fd-digits", "action": "confirm"})
    assert response.status_code == 200 and "plain digits" in response.text
    assert not DepositAccount.objects.filter(product__code="FD").exists()


def test_recurring_deposit_says_instalments_come_at_end_of_day(client, bank):
    savings = bank.open_account(deposit=5_000_00)
    client.force_login(bank.teller)
    url = reverse("teller:rd-open", kwargs={"pk": bank.customer.pk})
    assert "end of day" in client.get(url).text
    response = client.post(url, {"source": savings.pk, "instalment": "500", "months": "12", "token": "rd",
                                 "action": "confirm"}, follow=True)
    assert "debited from" in response.text and DepositAccount.objects.filter(product__code="RD").exists()


def test_premature_closure_shows_then_pays(client, bank):
    from banking.deposits.actions import open_fixed_deposit

    savings = bank.open_account(deposit=10_000_00)
    fd = open_fixed_deposit(actor=bank.teller, source=savings, principal=10_000_00, months=12, idempotency_key="k")
    client.force_login(bank.teller)
    url = reverse("teller:fd-close", args=[fd.number])
    page = client.get(url)
    assert "Rate paid" in page.text and "₹10,000.00" in page.text
    response = client.post(url, {"token": "close-1", "payout": str(10_000_00)})
    assert response.status_code == 302
    fd.refresh_from_db()
    assert fd.is_closed


@pytest.mark.parametrize("payout", ["abc", "１０", "1e6", "-5"])
def test_a_tampered_payout_figure_is_refused_in_words(client, bank, payout):
    from banking.deposits.actions import open_fixed_deposit

    savings = bank.open_account(deposit=10_000_00)
    fd = open_fixed_deposit(actor=bank.teller, source=savings, principal=10_000_00, months=12, idempotency_key="k2")
    client.force_login(bank.teller)
    response = client.post(reverse("teller:fd-close", args=[fd.number]), {"token": "close-2", "payout": payout},
                           follow=True)
    assert "could not be read" in response.text and "invalid literal" not in response.text
    fd.refresh_from_db()
    assert not fd.is_closed


# -- teller: holds, freezes, closing ----------------------------------------------------


def test_hold_placed_and_released(client, bank):
    account = bank.open_account(deposit=1_000_00)
    client.force_login(bank.teller)
    tomorrow = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    response = client.post(reverse("teller:hold-new", args=[account.number]),
                           {"amount": "250", "reason": "Cheque return charges", "expires_on": tomorrow})
    assert response.status_code == 302
    hold = Hold.objects.get()
    assert hold.amount == 250_00 and hold.expires_at is not None
    response = client.post(reverse("teller:hold-release", args=[account.number, hold.pk]), {"reason": "Paid"})
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None


def test_freeze_request_goes_to_the_queue(client, bank):
    account = bank.open_account()
    client.force_login(bank.teller)
    response = client.post(reverse("teller:account-freeze", args=[account.number]),
                           {"freeze": "debit", "reason": "Court order"})
    assert response.status_code == 302
    assert ApprovalRequest.objects.filter(kind="deposits.freeze").count() == 1


def test_closing_with_a_balance_is_refused_with_a_clear_message(client, bank):
    account = bank.open_account(deposit=500_00)
    client.force_login(bank.teller)
    response = client.post(reverse("teller:account-close", args=[account.number]), {"reason": "Moving"})
    assert response.status_code == 200 and "still holds ₹500.00" in response.text
    assert not ApprovalRequest.objects.filter(kind="deposits.closure").exists()


# -- statements -------------------------------------------------------------------------


def make_history(bank, count=3):
    account = bank.open_account(deposit=1_000_00)
    for i in range(count):
        bank.fund(account, (i + 1) * 100_00)
    bank.withdraw(account, 50_00)
    return account


def test_statement_page_shows_opening_lines_and_closing(client, bank):
    account = make_history(bank)
    client.force_login(bank.teller)
    response = client.get(reverse("teller:statement", args=[account.number]))
    assert response.status_code == 200
    assert "Opening balance" in response.text and "₹0.00" in response.text
    assert "₹1,550.00" in response.text  # closing: 1,000 + 100 + 200 + 300 − 50
    assert "Transfer out" in response.text
    filtered = client.get(reverse("teller:statement", args=[account.number]), {"direction": "D"}, headers=HTMX)
    assert "Transfer out" in filtered.text and "Transfer in" not in filtered.text


def test_statement_csv_is_streamed(client, bank):
    account = make_history(bank)
    client.force_login(bank.teller)
    response = client.get(reverse("teller:statement-csv", args=[account.number]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[1].startswith(f"Account number,{account.number}")
    assert ",Opening balance,,,,0.00" in text
    assert ",Transfer out," in text and ",50.00,,1550.00" in text
    assert lines[-1].endswith(",Closing balance,,50.00,1600.00,1550.00")


def _bulk_lines(account, count, day, per_entry=100):
    """`count` credits of ₹1 written straight to the ledger in entries of `per_entry`
    lines, each balanced by one debit to share capital so that the database's
    balanced-entry check holds. Only the read path is measured here."""
    import uuid

    from banking.ledger.models import LedgerAccount

    capital = LedgerAccount.objects.get(code="3100")
    entries = JournalEntry.objects.bulk_create(
        JournalEntry(business_date=day, kind="transfer", narration=f"Bulk credit {n}", idempotency_key=uuid.uuid4().hex,
                     content_hash="-", total=100 * per_entry) for n in range(count // per_entry)
    )
    postings, balance = [], 1_00_00
    for entry in entries:
        postings.append(Posting(entry=entry, account=capital, side="D", amount=100 * per_entry, balance_after=0,
                                business_date=day))
        for _ in range(per_entry):
            balance += 100
            postings.append(Posting(entry=entry, account=account.ledger_account, side="C", amount=100,
                                    balance_after=balance, business_date=day))
    Posting.objects.bulk_create(postings, batch_size=5000)


def _peak_while_streaming(account, day):
    from banking.deposits.statements import StatementPeriod, csv_rows

    tracemalloc.start()
    size = sum(len(line) for line in csv_rows(StatementPeriod(account, day, day)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, size


def test_statement_csv_memory_stays_flat(bank):
    """Streaming five times the lines takes no more memory: rows come through a
    server-side cursor in chunks and leave as they are written."""
    from banking.ledger.models import BusinessDate

    today = BusinessDate.objects.current()
    small, large = bank.open_account(deposit=1_00_00), bank.open_account(deposit=1_00_00)
    _bulk_lines(small, 4_000, today)
    _bulk_lines(large, 20_000, today)
    small_peak, small_size = _peak_while_streaming(small, today)
    large_peak, large_size = _peak_while_streaming(large, today)
    assert large_size > 4 * small_size
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_statement_pdf_is_a_pdf_with_the_customers_name(client, bank):
    from pypdf import PdfReader

    account = make_history(bank)
    client.force_login(bank.teller)
    response = client.get(reverse("teller:statement-pdf", args=[account.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert bank.customer.display_name in text
    assert account.number in text and "Closing balance" in text and "1,550.00" in text
    assert bank.branch.ifsc in text


# -- internet banking ---------------------------------------------------------------------


def test_teller_enables_internet_banking_and_the_customer_activates(client, bank, django_capture_on_commit_callbacks):
    client.force_login(bank.teller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("teller:internet-banking", kwargs={"pk": bank.customer.pk}))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(word for word in mail.outbox[0].body.split() if "/banking/activate/" in word)
    path = link.split("testserver", 1)[1]
    client.logout()

    page = client.get(path)
    assert page.status_code == 200 and bank.customer.cif in page.text
    weak = client.post(path, {"new_password1": "password", "new_password2": "password"})
    assert "too common" in weak.text or "too short" in weak.text
    response = client.post(path, {"new_password1": "a-long-river-crossing-42",
                                   "new_password2": "a-long-river-crossing-42"})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    bank.customer.refresh_from_db()
    assert bank.customer.user.check_password("a-long-river-crossing-42")

    client.logout()
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.text


def test_an_expired_link_says_so(client, bank, settings):
    from unittest import mock

    from django.core import signing

    user = ib.enable_internet_banking(actor=bank.teller, customer=bank.customer, link_for=str)
    token = ib.make_activation_token(user)
    with mock.patch.object(signing.time, "time", return_value=signing.time.time() + 25 * 3600):
        response = client.get(reverse("customer:activate", kwargs={"token": token}))
    assert response.status_code == 400 and "expired" in response.text


def test_a_tampered_link_is_refused(client, db):
    response = client.get(reverse("customer:activate", kwargs={"token": "not-a-token"}))
    assert response.status_code == 400 and "not valid" in response.text


# -- the customer's own screens --------------------------------------------------------------


def test_customer_home_shows_own_accounts_with_recent_transactions(client, bank):
    account = make_history(bank)
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    theirs = bank.open_account(customer=other, deposit=9_999_00)
    client.force_login(customer_login(bank))
    response = client.get(reverse("customer:home"))
    assert response.status_code == 200
    assert account.number in response.text and "₹1,550.00" in response.text and "Transfer out" in response.text
    assert theirs.number not in response.text and "9,999" not in response.text


@pytest.mark.parametrize("name", ["customer:account", "customer:statement", "customer:statement-csv",
                                  "customer:statement-pdf"])
def test_another_customers_account_is_404(client, bank, name):
    other = make_customer(branch=bank.branch, created_by=bank.teller)
    theirs = bank.open_account(customer=other, deposit=9_999_00)
    client.force_login(customer_login(bank))
    response = client.get(reverse(name, args=[theirs.number]))
    assert response.status_code == 404
    assert theirs.number not in response.text and other.display_name not in response.text


def test_customer_downloads_own_statement(client, bank):
    account = make_history(bank)
    client.force_login(customer_login(bank))
    assert client.get(reverse("customer:statement", args=[account.number])).status_code == 200
    pdf = client.get(reverse("customer:statement-pdf", args=[account.number]))
    assert pdf.content.startswith(b"%PDF")
    csv = client.get(reverse("customer:statement-csv", args=[account.number]))
    assert account.number in b"".join(csv.streaming_content).decode()
    assert account.number in client.get(reverse("customer:statements")).text


def test_joint_holder_sees_the_joint_account(client, bank):
    second = make_customer(branch=bank.branch, created_by=bank.teller)
    joint = bank.open_account(joint_holders=[second], mode_of_operation="either_or_survivor", deposit=700_00)
    client.force_login(customer_login(bank, second))
    assert joint.number in client.get(reverse("customer:home")).text


def test_staff_password_is_not_a_customer_login(client, bank):
    assert client.login(username=bank.teller.username, password=PASSWORD)
    assert client.get(reverse("customer:home")).status_code == 403


# -- customer 360: one list of what waits for a supervisor ------------------------------


def test_customer_360_lists_an_account_opening_sent_for_approval(client, bank):
    """The Open requests panel and the account card read the same pending requests:
    an opening waiting for approval is in both, never "Nothing is waiting" beside it."""
    from banking.deposits.actions import request_account_opening

    account = request_account_opening(actor=bank.teller, customer=bank.customer, product="SB")
    client.force_login(bank.teller)
    page = client.get(reverse("teller:customer-detail", kwargs={"pk": bank.customer.pk})).text
    assert "Nothing is waiting for a supervisor" not in page
    assert f"#{account.opening_request_id}" in page and account.number in page

    fragment = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}), headers=HTMX).text
    assert f"Waiting for a supervisor to approve the opening (request #{account.opening_request_id})" in fragment
    # The same response redraws the panel beside it, out of band.
    assert 'id="open-requests" hx-swap-oob="true"' in fragment
    panel = fragment.split('id="open-requests"', 1)[1]
    assert f"#{account.opening_request_id}" in panel and "Nothing is waiting" not in panel


def test_customer_360_says_nothing_waits_once_the_opening_is_approved(client, bank):
    account = bank.open_account()
    bank.open_account(customer=make_customer(branch=bank.branch, created_by=bank.teller))
    client.force_login(bank.teller)
    page = client.get(reverse("teller:customer-detail", kwargs={"pk": bank.customer.pk})).text
    assert "Nothing is waiting for a supervisor" in page and f"#{account.opening_request_id} " not in page
    fragment = client.get(reverse("teller:customer-accounts", kwargs={"pk": bank.customer.pk}), headers=HTMX).text
    assert "Waiting for a supervisor to approve" not in fragment
    assert "Nothing is waiting for a supervisor" in fragment.split('id="open-requests"', 1)[1]


def test_customer_360_open_requests_leave_out_other_customers_accounts(client, bank):
    from banking.deposits.actions import request_account_opening

    other = make_customer(branch=bank.branch, created_by=bank.teller)
    theirs = request_account_opening(actor=bank.teller, customer=other, product="SB")
    client.force_login(bank.teller)
    page = client.get(reverse("teller:customer-detail", kwargs={"pk": bank.customer.pk})).text
    assert theirs.number not in page and "Nothing is waiting for a supervisor" in page
