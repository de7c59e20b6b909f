"""Fixed deposits at end of day, against figures worked by hand: the daily accrual to
1/100 paisa, interest payable per product and branch, maturity by each instruction,
TDS under s.194A (crossing the threshold mid-year, Form 15H, no PAN), and the
counter's payout of a matured deposit. Every step run twice for a date changes nothing.

The FD arithmetic (DESIGN §5): whole quarters from the opening compound at r/400;
the days after the last whole quarter earn simple interest at r × days / 36,500.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from banking.core import eod
from banking.customers.models import IdentityDocument
from banking.customers.tests.factories import unique_pan
from banking.deposits import actions, terms
from banking.deposits.models import (
    DepositAccount,
    DepositStatus,
    InterestCredit,
    MaturityInstruction,
    TermAccrualPosting,
    TermDepositSettlement,
    TermDepositState,
)
from banking.ledger.models import BusinessDate, JournalEntry, LedgerAccount, Posting

from .factories import make_customer

D = datetime.date
STEPS = (terms.RECURRING_STEP, terms.FIXED_DEPOSITS_STEP, terms.FIXED_DEPOSIT_INTEREST_STEP)


def on(day):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    return day


def close_day(day):
    """Run the term deposits' steps for `day`, each partition as the controller would."""
    on(day)
    for step in eod.registered():
        if step.name not in STEPS:
            continue
        if step.partitions is None:
            step.run(date=day.isoformat())
        else:
            for first, last in step.partitions(date=day.isoformat(), size=2):
                step.run(date=day.isoformat(), first=first, last=last)


def books():
    """Every ledger balance and the number of entries: what must not move on a rerun."""
    return dict(LedgerAccount.objects.values_list("code", "balance")), JournalEntry.objects.count()


def trial_balance_nets_to_zero():
    debit = sum(LedgerAccount.objects.detail().filter(normal_side="D").values_list("balance", flat=True))
    credit = sum(LedgerAccount.objects.detail().filter(normal_side="C").values_list("balance", flat=True))
    return debit == credit


def gl(code):
    return LedgerAccount.objects.get(code=code).balance


def with_pan(customer):
    document = IdentityDocument(customer=customer, doc_type="pan")
    document.set_number(unique_pan())
    document.save()
    return customer


def open_fd(bank, *, day, principal, customer=None, months=0, days=0, instruction="pay_out", funds=None):
    on(day)
    savings = bank.open_account(customer=customer, deposit=funds or principal)
    fd = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=principal, months=months,
                                    days=days, maturity_instruction=instruction, idempotency_key=f"fd-{savings.pk}")
    return savings, DepositAccount.objects.get(pk=fd.pk)


def balance(account):
    account.ledger_account.refresh_from_db()
    return account.ledger_account.balance


pytestmark = pytest.mark.django_db


def test_the_steps_are_registered_in_their_places():
    places = {step.name: step.order for step in eod.registered()}
    assert places[terms.RECURRING_STEP] == 30 and places[terms.FIXED_DEPOSITS_STEP] == 60
    assert places[terms.FIXED_DEPOSIT_INTEREST_STEP] == 63


def test_a_year_of_accrual_then_payout_by_hand(bank):
    # ₹1,00,000 for 12 months from 1 Jan 2026 at 6.80% (365 days), paid out at maturity.
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=1_00_000_00, months=12)
    assert (fd.rate, fd.maturity_date, fd.maturity_amount) == (Decimal("6.80"), D(2027, 1, 1), 1_06_975_37)

    # Close of 1 Jan: one day's simple interest, 1,00,00,000 paise × 6.80 / 36,500
    #   = 1,863.0136986 paise → kept as 1,86,301 hundredths of a paisa.
    # Interest payable gets 1,863.01 paise rounded half-up: 1,863 paise (₹18.63).
    close_day(D(2026, 1, 1))
    state = TermDepositState.objects.get(account=fd)
    assert (state.accrued, state.accrued_through) == (1_86_301, D(2026, 1, 1))
    assert gl("2201") == 18_63 and gl("5102") == 18_63

    # Close of 2 Jan: two days, 3,726.0273973 paise → 3,72,603 (the day's accrual is
    # 3,72,603 − 1,86,301 = 1,86,302: the roundings do not add up, they are redone).
    # Interest payable: 3,726.03 → 3,726 paise, so the day's entry is 1,863 paise.
    close_day(D(2026, 1, 2))
    assert TermDepositState.objects.get(account=fd).accrued == 3_72_603
    assert gl("2201") == 37_26
    entry = TermAccrualPosting.objects.get(date=D(2026, 1, 2)).entry
    assert entry.total == 18_63 and "Interest accrued on fixed deposits" in entry.narration

    # End of day was not run for three months: 31 Mar catches up. The first quarter is
    # exactly whole on 1 Apr: 1,00,00,000 × 0.017 = 1,70,000 paise → 1,70,00,000 hundredths.
    close_day(D(2026, 3, 31))
    assert TermDepositState.objects.get(account=fd).accrued == 1_70_00_000
    assert gl("2201") == 1_700_00

    # Close of 31 Dec, the last day: the whole year's interest, 1,00,000 × (1.017⁴ − 1)
    #   = 6,975.3735521 rupees = 6,97,537.35521 paise → 6,97,53,736 hundredths;
    # interest payable 6,97,537.36 → 6,97,537 paise (₹6,975.37).
    close_day(D(2026, 12, 31))
    assert TermDepositState.objects.get(account=fd).accrued == 6_97_53_736
    assert gl("2201") == 6_975_37

    # Maturity, 1 Jan 2027: interest ₹6,975.37 (the figure promised at opening) is
    # credited out of interest payable, which releases exactly ₹6,975.37: nothing to
    # 5102. ₹6,975.37 is within ₹50,000: no TDS. ₹1,06,975.37 goes to the savings account.
    mail.outbox.clear()
    before = balance(savings)
    close_day(D(2027, 1, 1))
    fd.refresh_from_db()
    assert fd.status == DepositStatus.CLOSED and balance(fd) == 0
    assert balance(savings) - before == 1_06_975_37
    assert gl("2201") == 0 and gl("5102") == 6_975_37 and gl("2601") == 0
    settlement = fd.settlement
    assert (settlement.kind, settlement.interest, settlement.tds, settlement.accrual_released) == (
        "paid_out", 6_975_37, 0, 6_975_37)
    narrations = list(Posting.objects.filter(account=fd.ledger_account).order_by("id")
                      .values_list("entry__narration", flat=True))
    assert narrations[-2:] == [
        f"Interest on fixed deposit {fd.number} at 6.80% from 01 Jan 2026 to 01 Jan 2027",
        f"Fixed deposit {fd.number} matured: principal ₹1,00,000.00, interest ₹6,975.37",
    ]
    assert [m.subject for m in mail.outbox] == [f"CBS Bank: your fixed deposit {fd.masked_number} has matured"]
    assert "Interest: ₹6,975.37" in mail.outbox[0].body and "₹1,06,975.37" in mail.outbox[0].body

    # Every step again for the same date changes nothing; money was never made or lost.
    after = books()
    close_day(D(2027, 1, 1))
    assert books() == after and trial_balance_nets_to_zero()


def test_each_step_run_twice_for_a_date_changes_nothing(bank):
    open_fd(bank, day=D(2026, 1, 1), principal=50_000_00, months=6)
    for day in (D(2026, 1, 1), D(2026, 2, 14), D(2026, 7, 1)):
        close_day(day)
        first = books()
        close_day(day)
        assert books() == first
    assert trial_balance_nets_to_zero()


def test_fd_renewal_with_tds_crossing_the_threshold_mid_year(bank):
    customer = with_pan(bank.customer)
    # FY 2026-27. All three deposits opened on the business dates shown, each its own savings account.
    # A: ₹33,00,000 for 90 days from 1 Apr at 5.50% (46–179 day slab), no whole quarter:
    #    33,00,000 × 5.50 × 90 / 36,500 = 44,753.4246... → ₹44,753.42, matures 30 Jun.
    savings_a, fd_a = open_fd(bank, day=D(2026, 4, 1), principal=33_00_000_00, days=90, customer=customer)
    # B: ₹5,00,000 for 183 days from 1 Apr at 6.25% (180–364 slab), renew the principal:
    #    two whole quarters, 5,00,000 × 1.015625² = 5,15,747.0703 → interest ₹15,747.07, matures 1 Oct.
    savings_b, fd_b = open_fd(bank, day=D(2026, 4, 1), principal=5_00_000_00, days=183, customer=customer,
                              instruction=MaturityInstruction.RENEW_PRINCIPAL)
    # C: ₹2,00,000 for 3 months from 1 Sep at 5.50% (91 days): one whole quarter,
    #    2,00,000 × 1.01375 = 2,02,750 → interest ₹2,750.00, matures 1 Dec.
    savings_c, fd_c = open_fd(bank, day=D(2026, 9, 1), principal=2_00_000_00, months=3, customer=customer)
    assert (fd_a.maturity_amount, fd_b.maturity_amount, fd_c.maturity_amount) == (
        33_44_753_42, 5_15_747_07, 2_02_750_00)

    # 30 Jun: A's ₹44,753.42 keeps the year within ₹50,000: no TDS.
    close_day(D(2026, 6, 30))
    assert TermDepositSettlement.objects.get(account=fd_a).tds == 0
    assert balance(savings_a) == 33_44_753_42

    # 1 Oct: B's ₹15,747.07 takes the year to 44,753.42 + 15,747.07 = ₹60,500.49, past
    # ₹50,000, so TDS is on the whole year so far: 10% × 60,500.49 = 6,050.049 → ₹6,050.05,
    # taken from B's interest. The principal ₹5,00,000 is renewed for 183 days at 1 Oct's
    # rate (6.25%), maturing 2 Apr 2027: two quarters and 1 day,
    #    5,00,000 × 1.031494140625 × (1 + 6.25 × 1 / 36,500) = 5,15,835.3832 → ₹5,15,835.38;
    # the interest less TDS, 15,747.07 − 6,050.05 = ₹9,697.02, goes to B's savings account.
    tds_before = gl("2601")
    close_day(D(2026, 10, 1))
    settlement = TermDepositSettlement.objects.get(account=fd_b)
    assert (settlement.kind, settlement.interest, settlement.tds, settlement.paid_out) == (
        "renewed_principal", 15_747_07, 6_050_05, 9_697_02)
    renewed = settlement.renewed_into
    assert (renewed.principal, renewed.rate, renewed.term_days, renewed.opened_on, renewed.maturity_date,
            renewed.maturity_amount) == (5_00_000_00, Decimal("6.25"), 183, D(2026, 10, 1), D(2027, 4, 2),
                                         5_15_835_38)
    assert renewed.maturity_instruction == MaturityInstruction.RENEW_PRINCIPAL
    assert balance(renewed) == 5_00_000_00 and balance(savings_b) == 9_697_02
    assert gl("2601") - tds_before == 6_050_05
    fd_b.refresh_from_db()
    assert fd_b.is_closed
    tds_line = Posting.objects.get(account=fd_b.ledger_account, entry__narration__startswith="Tax deducted")
    assert tds_line.amount == 6_050_05 and tds_line.entry.narration.endswith("FY 2026-27")

    # 1 Dec: past the threshold already, C's ₹2,750 bears 10% on itself alone: ₹275.00.
    close_day(D(2026, 12, 1))
    assert TermDepositSettlement.objects.get(account=fd_c).tds == 275_00
    assert balance(savings_c) == 2_00_000_00 + 2_750_00 - 275_00
    totals = InterestCredit.objects.for_year(customer, 2026).totals()
    assert totals == {"interest": 44_753_42 + 15_747_07 + 2_750_00, "tds_due": 6_050_05 + 275_00,
                      "tds": 6_050_05 + 275_00}
    assert gl("2601") == 6_325_05 and trial_balance_nets_to_zero()


def _senior(bank):
    return make_customer(branch=bank.branch, created_by=bank.teller, date_of_birth=D(1960, 5, 1))


def test_a_form_15h_customer_pays_no_tds(bank):
    # Two senior citizens (66 by 31 Mar 2027), each with ₹20,00,000 for 12 months from
    # 1 Mar 2026 at 6.80%: 20,00,000 × (1.017⁴ − 1) = 1,39,507.4710 → ₹1,39,507.47 of
    # interest on 1 Mar 2027, in FY 2026-27, past the senior threshold of ₹1,00,000.
    declared, undeclared = with_pan(_senior(bank)), with_pan(_senior(bank))
    _, fd_declared = open_fd(bank, day=D(2026, 3, 1), principal=20_00_000_00, months=12, customer=declared)
    _, fd_undeclared = open_fd(bank, day=D(2026, 3, 1), principal=20_00_000_00, months=12, customer=undeclared)
    on(D(2026, 4, 10))
    declaration = terms.record_tax_declaration(actor=bank.teller, customer=declared, form="15H")
    assert (declaration.financial_year, declaration.form) == (2026, "15H")

    close_day(D(2027, 3, 1))
    # With the Form 15H: no TDS. Without one: 10% × 1,39,507.47 = 13,950.747 → ₹13,950.75.
    assert TermDepositSettlement.objects.get(account=fd_declared).tds == 0
    assert TermDepositSettlement.objects.get(account=fd_undeclared).tds == 13_950_75
    assert "Form 15H" in InterestCredit.objects.get(account=fd_declared).note
    assert gl("2601") == 13_950_75


def test_without_a_pan_tds_is_twenty_percent(bank):
    senior = _senior(bank)  # no PAN on file
    _, fd = open_fd(bank, day=D(2026, 3, 1), principal=20_00_000_00, months=12, customer=senior)
    close_day(D(2027, 3, 1))
    # 20% × 1,39,507.47 = 27,901.494 → ₹27,901.49.
    assert TermDepositSettlement.objects.get(account=fd).tds == 27_901_49


def test_renewing_principal_and_interest_keeps_it_all_in_a_new_deposit(bank):
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=1_00_000_00, months=12,
                          instruction=MaturityInstruction.RENEW_ALL)
    close_day(D(2027, 1, 1))
    settlement = TermDepositSettlement.objects.get(account=fd)
    renewed = settlement.renewed_into
    # ₹1,06,975.37 renewed for 365 days from 1 Jan 2027 at that day's 6.80%.
    assert (settlement.kind, settlement.paid_out, renewed.principal, renewed.term_days) == (
        "renewed_all", 0, 1_06_975_37, 365)
    assert balance(renewed) == 1_06_975_37 and balance(savings) == 0
    # The renewed deposit accrues from its own start, and is paid out in its turn.
    close_day(D(2027, 1, 2))
    assert TermDepositState.objects.get(account=renewed).accrued > 0


def test_a_renewal_the_product_no_longer_allows_is_paid_out(bank):
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=1_00_000_00, months=12,
                          instruction=MaturityInstruction.RENEW_PRINCIPAL)
    fd.product.slabs.filter(min_days__lte=365, max_days__gte=365).delete()
    close_day(D(2027, 1, 1))
    settlement = TermDepositSettlement.objects.get(account=fd)
    assert (settlement.kind, settlement.renewed_into, settlement.paid_out) == ("paid_out", None, 1_06_975_37)
    assert balance(savings) == 1_06_975_37


def test_a_deposit_that_cannot_be_paid_waits_with_its_problem_then_pays(bank):
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=10_000_00, days=30)
    request = actions.request_freeze(actor=bank.teller, account=savings, freeze="total", reason="Court order")
    from banking.approvals.actions import approve_request

    approve_request(actor=bank.supervisor, request_id=request.pk)
    close_day(D(2026, 1, 31))
    fd.refresh_from_db()
    state = TermDepositState.objects.get(account=fd)
    assert fd.status == DepositStatus.ACTIVE and "cannot take the money" in state.problem
    assert state.problem_on == D(2026, 1, 31)
    # Interest stopped at maturity: later days accrue nothing more.
    accrued = state.accrued
    close_day(D(2026, 2, 5))
    assert TermDepositState.objects.get(account=fd).accrued == accrued

    request = actions.request_unfreeze(actor=bank.teller, account=savings, reason="Order lifted")
    approve_request(actor=bank.supervisor, request_id=request.pk)
    close_day(D(2026, 2, 6))
    fd.refresh_from_db()
    # ₹10,000 for 30 days at 3.50%: 10,000 × 3.50 × 30 / 36,500 = 28.767 → ₹28.77.
    assert fd.is_closed and balance(savings) == 10_028_77
    assert TermDepositState.objects.get(account=fd).problem == ""


def test_the_counter_pays_a_matured_deposit(bank):
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=1_00_000_00, months=12)
    close_day(D(2026, 12, 31))
    on(D(2027, 1, 1))  # matured; the counter is first, before end of day
    quote = actions.quote_premature_closure(fd)
    assert quote.matured and (quote.interest, quote.tds, quote.payout) == (6_975_37, 0, 1_06_975_37)
    actions.close_fixed_deposit_early(actor=bank.teller, account=fd, idempotency_key="pay-matured",
                                      expected_payout=quote.payout)
    fd.refresh_from_db()
    assert fd.is_closed and fd.settlement.kind == "paid_after_maturity"
    assert balance(savings) == 1_06_975_37 and gl("2201") == 0
    # End of day finds it settled and does nothing more with it.
    close_day(D(2027, 1, 1))
    assert balance(savings) == 1_06_975_37 and trial_balance_nets_to_zero()


def test_closing_early_releases_the_accrual_and_gives_back_the_difference(bank):
    savings, fd = open_fd(bank, day=D(2026, 1, 1), principal=1_00_000_00, months=24)
    close_day(D(2026, 7, 19))
    accrued = TermDepositState.objects.get(account=fd).accrued_paise
    # The accrual is at the deposit's 7.00% for 200 days: 1,00,000 × 1.0175² × (1 + 7 × 19 / 36,500)
    #   − 1,00,000 = 3,907.8736... → ₹3,907.87, in interest payable.
    assert accrued == 3_907_87 and gl("2201") == 3_907_87
    on(D(2026, 7, 20))
    # Closed early it pays 5.25% (test_actions works it: ₹2,922.74); interest payable gives
    # up the whole accrual and 5102 gets back the 3,907.87 − 2,922.74 = ₹985.13 not paid.
    actions.close_fixed_deposit_early(actor=bank.teller, account=fd, idempotency_key="early")
    assert balance(savings) == 1_02_922_74
    assert gl("2201") == 0 and gl("5102") == 2_922_74
    assert TermDepositSettlement.objects.get(account=fd).accrual_released == 3_907_87
    close_day(D(2026, 7, 20))
    assert gl("2201") == 0 and trial_balance_nets_to_zero()


def test_the_financial_year_runs_april_to_march():
    assert terms.financial_year(D(2026, 3, 31)) == 2025 and terms.financial_year(D(2026, 4, 1)) == 2026
    assert terms.financial_year_label(2026) == "FY 2026-27"


def test_tds_that_a_credit_cannot_bear_is_carried_to_the_next(bank):
    customer = with_pan(bank.customer)
    deposits = [bank.open_account() for _ in range(3)]  # stand-ins: one credit per deposit
    # ₹49,900 credited in May: within ₹50,000, no TDS.
    first, _ = terms.credit_interest(account=deposits[0], on=D(2026, 5, 1), interest_paise=49_900_00)
    # ₹200 in June takes the year to ₹50,100: 10% of it is ₹5,010, but the credit is only
    # ₹200, so ₹200 is deducted and ₹4,810 carried.
    second, quote = terms.credit_interest(account=deposits[1], on=D(2026, 6, 1), interest_paise=200_00)
    assert (first.tds, second.tds_due, second.tds) == (0, 5_010_00, 200_00)
    assert "₹4,810.00 could not be taken from this interest and is carried" in quote.note
    # ₹10,000 in July: 10% of it, ₹1,000, plus the ₹4,810 carried = ₹5,810.
    third, _ = terms.credit_interest(account=deposits[2], on=D(2026, 7, 1), interest_paise=10_000_00)
    assert (third.tds_due, third.tds) == (1_000_00, 5_810_00)
    assert InterestCredit.objects.for_year(customer, 2026).totals() == {
        "interest": 60_100_00, "tds_due": 6_010_00, "tds": 6_010_00}
