"""Term deposit screens: the customer's FD page and its maturity instruction (with the
authenticator code), the statement's words for interest, TDS and maturity; the
teller's customer 360 (re-KYC due, dormancy, RD instalments missed and penalties),
the re-KYC list, Form 15G/15H, and paying out a matured FD at the counter."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from banking.customers.models import Customer, IdentityDocument
from banking.customers.rekyc import flag_rekyc_due
from banking.customers.tests.factories import unique_pan
from banking.deposits import actions, terms
from banking.deposits.models import DepositAccount, DepositStatus, TaxDeclaration
from banking.deposits.tests.test_fixed_deposit_eod import close_day, on
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import SHARE_CAPITAL
from banking.ledger.models import EntryKind, LedgerAccount
from banking.payments.tests.factories import make_bank
from banking.testing import make_user, totp_code
from banking.users.roles import Role

D = datetime.date


def text(response):
    return html.unescape(response.content.decode())


def words(response):
    """What a person reads: the page's text without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", text(response)).split())


def fund(account, amount):
    capital = LedgerAccount.objects.get(code=SHARE_CAPITAL)
    post_entry(actor=None, lines=[Line.debit(capital, amount), Line.credit(account.ledger_account_id, amount)],
               kind=EntryKind.TRANSFER, narration="Transfer in", idempotency_key=f"fund-{account.pk}-{amount}")


@pytest.fixture
def bank(db):
    on(D(2026, 1, 1))
    return make_bank()


@pytest.fixture
def fd_setup(bank, client):
    """Priya's savings account, a ₹1,00,000 FD for 12 months from it, her login."""
    savings = bank.account(balance=2_00_000_00, first_name="Priya", last_name="Sharma")
    fd = actions.open_fixed_deposit(actor=bank.maker, source=savings, principal=1_00_000_00, months=12,
                                    idempotency_key="view-fd")
    user = bank.customer_login(savings)
    client.force_login(user)
    return savings, DepositAccount.objects.get(pk=fd.pk), user


# -- the customer's fixed deposit -------------------------------------------------------


def test_the_fd_page_says_what_happens_at_maturity(client, fd_setup):
    savings, fd, _ = fd_setup
    close_day(D(2026, 1, 1))
    page = text(client.get(reverse("customer:account", args=[fd.number])))
    assert "At maturity" in page and "01 Jan 2027" in page
    assert f"₹1,06,975.37 (principal and interest, less any TDS) is paid into {savings.masked_number}" in page
    assert "Interest earned so far" in page and "₹18.63" in page
    assert "Change what happens at maturity" in page


def test_the_customer_changes_the_instruction_with_the_code(client, fd_setup):
    _, fd, user = fd_setup
    url = reverse("customer:fd-maturity", args=[fd.number])
    assert "What happens at maturity" in text(client.get(url))
    refused = client.post(url, {"instruction": "renew_all", "code": "000000"})
    assert "That authenticator code is not right" in text(refused)
    fd.refresh_from_db()
    assert fd.maturity_instruction == "pay_out"

    response = client.post(url, {"instruction": "renew_all", "code": totp_code(user.totp_secret)})
    assert response.status_code == 302 and response["Location"] == reverse("customer:account", args=[fd.number])
    fd.refresh_from_db()
    assert fd.maturity_instruction == "renew_all"
    assert "Renew principal and interest" in text(client.get(reverse("customer:account", args=[fd.number])))


def test_the_instruction_cannot_change_once_matured_nor_be_garbage(client, fd_setup):
    _, fd, user = fd_setup
    url = reverse("customer:fd-maturity", args=[fd.number])
    bad = client.post(url, {"instruction": "give_it_away", "code": totp_code(user.totp_secret)})
    assert bad.status_code == 200 and "Choose one of the three instructions shown" in text(bad)
    on(D(2027, 1, 1))
    page = text(client.get(url))
    assert "can no longer change" in page and "Save the instruction" not in page
    fd.refresh_from_db()
    assert fd.maturity_instruction == "pay_out"


def test_another_customers_fd_is_a_404_and_staff_are_refused(client, bank, fd_setup):
    stranger = bank.account(balance=50_000_00)
    theirs = actions.open_fixed_deposit(actor=bank.maker, source=stranger, principal=10_000_00, months=12,
                                        idempotency_key="their-fd")
    url = reverse("customer:fd-maturity", args=[theirs.number])
    assert client.get(url).status_code == 404
    assert client.post(url, {"instruction": "renew_all", "code": "123456"}).status_code == 404
    client.force_login(make_user(Role.TELLER, branch=bank.branch))
    assert client.get(reverse("customer:fd-maturity", args=[fd_setup[1].number])).status_code == 403


def test_the_statement_says_interest_tds_and_maturity_in_words(client, fd_setup):
    savings, fd, _ = fd_setup
    pan = IdentityDocument(customer=savings.customer, doc_type="pan")
    pan.set_number(unique_pan())
    pan.save()
    # ₹44,000 of deposit interest already credited this year, so this FD's ₹6,975.37 crosses
    # ₹50,000: TDS 10% × 50,975.37 = ₹5,097.54.
    terms.InterestCredit.objects.create(customer=savings.customer, account=savings, financial_year=2026,
                                        credited_on=D(2026, 5, 1), interest=44_000_00)
    close_day(D(2027, 1, 1))
    page = text(client.get(reverse("customer:statement", args=[fd.number]),
                           {"start": "2026-01-01", "end": "2027-01-31"}))
    assert f"Interest on fixed deposit {fd.number} at 6.80% from 01 Jan 2026 to 01 Jan 2027" in page
    assert f"Tax deducted at source (section 194A) on interest of {fd.number}, FY 2026-27" in page
    assert f"Fixed deposit {fd.number} matured: principal ₹1,00,000.00, interest ₹6,975.37 less TDS ₹5,097.54" in page
    advice = text(client.get(reverse("customer:account", args=[fd.number])))
    assert "Maturity advice" in advice and "₹5,097.54" in advice and "₹1,01,877.83" in advice


# -- the teller's customer 360 ---------------------------------------------------------


def test_customer_360_shows_rekyc_dormancy_and_rd_instalments(client, bank):
    savings = bank.account(balance=1_000_00, first_name="Anil", last_name="Rao")
    customer = savings.customer
    rd = actions.open_recurring_deposit(actor=bank.maker, source=savings, instalment=1_000_00, months=12,
                                        idempotency_key="view-rd")
    close_day(D(2026, 1, 1))                 # instalment 1 paid
    close_day(D(2026, 2, 1))                 # instalment 2 missed: the account is empty
    bank_fund = bank.account(balance=0)      # another of Anil's accounts, dormant
    bank_fund.customer = customer
    bank_fund.last_customer_activity_on = D(2023, 12, 1)
    bank_fund.save(update_fields=["customer", "last_customer_activity_on"])
    actions.mark_inoperative(actor=bank.maker, account=bank_fund)
    Customer.objects.filter(pk=customer.pk).update(rekyc_due_on=D(2026, 1, 15), risk_category="high")
    flag_rekyc_due(customer_id=customer.pk, on=D(2026, 2, 1))

    teller = make_user(Role.TELLER, branch=bank.branch)
    client.force_login(teller)
    attention = words(client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})))
    assert "Re-KYC due since 15 Jan 2026 (high risk). Emailed on 01 Feb 2026." in attention
    assert (f"Inoperative: Savings account {bank_fund.number} takes no debits; the last transaction the customer "
            "made was on 01 Dec 2023") in attention
    assert f"Recurring deposit {rd.number}: 1 of 12 instalments paid; 1 missed their due day." in attention
    assert "1 unpaid, the oldest due 01 Feb 2026" in attention

    # Money arrives; instalment 2 is paid 9 days late with ₹15 (1.50 per ₹100, one period).
    fund(savings, 5_000_00)
    close_day(D(2026, 2, 10))
    attention = words(client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})))
    assert "2 of 12 instalments paid; 1 missed their due day, penalties ₹15.00." in attention

    client.force_login(bank.customer_login(savings))
    assert client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})).status_code == 403


def test_customer_360_warns_of_an_account_about_to_become_inoperative(client, bank):
    on(D(2026, 3, 1))
    quiet = bank.account(balance=500_00, first_name="Gita", last_name="Sen")
    busy = bank.account(balance=500_00)
    busy.customer = quiet.customer
    DepositAccount.objects.filter(pk=quiet.pk).update(last_customer_activity_on=D(2024, 4, 20))
    DepositAccount.objects.filter(pk=busy.pk).update(customer=quiet.customer,
                                                     last_customer_activity_on=D(2026, 2, 1))
    client.force_login(make_user(Role.TELLER, branch=bank.branch))
    attention = words(client.get(reverse("teller:customer-detail", kwargs={"pk": quiet.customer.pk})))
    # Two years after 20 Apr 2024, within the three months' warning from 1 Mar 2026.
    assert (f"Becomes inoperative on 20 Apr 2026: Savings account {quiet.number} has had no transaction by the "
            "customer since 20 Apr 2024.") in attention
    assert busy.number not in attention


def test_the_rekyc_list_shows_the_branch_or_the_bank(client, bank):
    mine = bank.account(first_name="Sita", last_name="Iyer").customer
    other_branch = make_bank()
    theirs = other_branch.account(first_name="Ravi", last_name="Nair").customer
    Customer.objects.filter(pk__in=[mine.pk, theirs.pk]).update(rekyc_due_on=D(2025, 12, 1))
    flag_rekyc_due(customer_id=mine.pk, on=D(2026, 1, 1))
    client.force_login(make_user(Role.TELLER, branch=bank.branch))
    page = text(client.get(reverse("teller:rekyc-due")))
    assert "Sita Iyer" in page and "Ravi Nair" not in page and "By email" in page
    page = text(client.get(reverse("teller:rekyc-due"), {"where": "bank"}))
    assert "Sita Iyer" in page and "Ravi Nair" in page and "Not yet" in page
    client.force_login(make_user(Role.CUSTOMER))
    assert client.get(reverse("teller:rekyc-due")).status_code == 403


def test_a_teller_records_form_15g_once(client, bank):
    customer = bank.account(first_name="Meena", last_name="Das").customer
    url = reverse("teller:tax-declaration", kwargs={"pk": customer.pk})
    client.force_login(make_user(Role.TELLER, branch=bank.branch))
    no_pan = client.post(url, {"form": "15G", "signed": "on"})
    assert "PAN is not on file" in text(no_pan) and not TaxDeclaration.objects.exists()
    pan = IdentityDocument(customer=customer, doc_type="pan")
    pan.set_number(unique_pan())
    pan.save()
    assert "Form 15H is for senior citizens" in text(client.post(url, {"form": "15H", "signed": "on"}))
    assert "Confirm that the signed form" in text(client.post(url, {"form": "15G"}))
    response = client.post(url, {"form": "15G", "signed": "on"})
    assert response.status_code == 302
    declaration = TaxDeclaration.objects.get()
    assert (declaration.customer, declaration.form, declaration.financial_year) == (customer, "15G", 2025)
    page = text(client.get(reverse("teller:customer-detail", kwargs={"pk": customer.pk})))
    assert "Form 15G on file" in page
    assert "already on file" in text(client.get(url))
    client.force_login(make_user(Role.OPERATIONS))
    assert client.get(url).status_code == 403


def test_the_counter_pays_out_a_matured_fd(client, bank):
    savings = bank.account(balance=1_00_000_00)
    fd = actions.open_fixed_deposit(actor=bank.maker, source=savings, principal=1_00_000_00, months=12,
                                    idempotency_key="counter-fd")
    teller = make_user(Role.TELLER, branch=bank.branch)
    client.force_login(teller)
    on(D(2027, 1, 5))  # matured four days ago; end of day could not pay it (say)
    url = reverse("teller:fd-close", kwargs={"number": fd.number})
    page = text(client.get(url))
    assert f"Pay out matured fixed deposit {fd.number}" in page and "Pay ₹1,06,975.37" in page
    response = client.post(url, {"token": "matured-1", "payout": "10697537"})
    assert response.status_code == 302
    fd.refresh_from_db()
    assert fd.status == DepositStatus.CLOSED and fd.settlement.kind == "paid_after_maturity"


def test_a_renewed_fd_says_where_it_came_from(client, fd_setup):
    _, fd, _ = fd_setup
    DepositAccount.objects.filter(pk=fd.pk).update(maturity_instruction="renew_all")
    close_day(D(2027, 1, 1))
    renewed = DepositAccount.objects.get(settlement__isnull=True, product__code="FD", customer=fd.customer)
    page = words(client.get(reverse("customer:account", args=[renewed.number])))
    assert f"Renewed on 01 Jan 2027 from fixed deposit {fd.masked_number}." in page
    assert renewed.maturity_date == D(2028, 1, 1) and "01 Jan 2028" in page and "₹1,06,975.37" in page
    old = words(client.get(reverse("customer:account", args=[fd.number])))
    assert "Maturity advice" in old and "Renewed as" in old and renewed.masked_number in old
