"""The demo bank's deposit accounts and their history.

Every verified customer gets a savings account; some also a current account and a
fixed deposit; each savings account gets about six weeks of salary credits, UPI
and NEFT payments, ATM withdrawals and bill payments, on the business dates they
happened. Run again, it finds everything by its opening key and posts nothing.

The history needs past business dates, so on the first run (and only then) the
seed sets the bank's date back HISTORY_DAYS, opens the accounts, walks the date
forward day by day while posting, and ends on the date it started from. Nothing
else may be running: it is a demo loader, not an end-of-day job.

Each account opens with cash, as at a real counter: on the first day each branch's
first teller opens an empty till, counts every opening deposit into it, and at the
end of the day closes it; the head teller's sign-off takes the cash into the vault
and the branch closes its cash for the day. So the vault, the tills and their GLs
agree, and no cash sits in a GL that no till or vault counts.
"""

import datetime
import random

from banking.approvals.actions import approve_request
from banking.core.errors import BankingError
from banking.deposits import actions
from banking.deposits.models import DepositAccount, DepositStatus
from banking.ledger.actions import Line, check_debit, post_entry
from banking.ledger.chart import RBI_SETTLEMENT
from banking.ledger.holidays import is_holiday
from banking.ledger.models import BusinessDate, Channel, EntryKind, LedgerAccount
from banking.teller import actions as teller_actions
from banking.teller.denominations import Denominations
from banking.teller.models import BranchDay, TillDay
from banking.users.models import User

HISTORY_DAYS = 45


def _staff(branch, role):
    return (User.objects.filter(groups__name=role, staff_profile__branch=branch, is_active=True)
            .order_by("username").first())


def seed_accounts():
    """Open the missing demo accounts and post their history. Returns how many accounts it opened."""
    from banking.customers.models import Customer

    customers = list(Customer.objects.verified().select_related("home_branch").order_by("cif"))
    # "demo-sb-…" is the key of a database seeded before the counter took opening cash.
    todo = [c for c in customers if not DepositAccount.objects.filter(
        opening_key__in=[f"demo-sb-{c.cif}", f"open-demo-sb-{c.cif}"]).exists()]
    if not todo:
        return 0
    row = BusinessDate.objects.get(pk=1)
    today = row.date
    start = today - datetime.timedelta(days=HISTORY_DAYS)
    while is_holiday(start):  # the accounts open at a counter, on a working day
        start -= datetime.timedelta(days=1)
    BusinessDate.objects.filter(pk=1).update(date=start)
    opened = 0
    try:
        plans = []
        branches = {customer.home_branch for customer in todo}
        for branch in branches:
            _open_till_for_the_day(branch)
        for index, customer in enumerate(todo):
            plan = _open(customer, index)
            if plan:
                plans.append(plan)
                opened += len(plan["accounts"])
        for branch in branches:
            _close_the_day(branch)
        day = start
        while day < today:
            day += datetime.timedelta(days=1)
            BusinessDate.objects.filter(pk=1).update(date=day)
            for plan in plans:
                _day_of(plan, day, start)
    finally:
        BusinessDate.objects.filter(pk=1).update(date=today)
    return opened


def _open_till_for_the_day(branch):
    """The branch's first teller opens their till, empty, for the opening deposits."""
    teller = _staff(branch, "teller")
    if teller is None or _staff(branch, "supervisor") is None:
        return
    till = teller_actions.ensure_till(teller=teller)
    if not TillDay.objects.filter(till=till, business_date=teller_actions.today()).exists():
        teller_actions.open_till(actor=teller, counted=till.counts)


def _close_the_day(branch):
    """The teller counts the till, the head teller signs it off (the cash goes to the
    vault) and the branch closes its cash for the day."""
    teller, supervisor = _staff(branch, "teller"), _staff(branch, "supervisor")
    if teller is None or supervisor is None:
        return
    date = teller_actions.today()
    till = teller_actions.find_till(teller)
    day = TillDay.objects.filter(till=till, business_date=date).first()
    if day is not None and day.is_open:
        day = teller_actions.close_till(actor=teller, counted=till.counts,
                                        idempotency_key=f"demo-close-{branch.code}-{date.isoformat()}")
        approve_request(actor=supervisor, request_id=day.close_request_id)
    if not BranchDay.objects.filter(branch=branch, business_date=date).exists():
        teller_actions.close_branch(actor=supervisor, branch=branch)


def _open(customer, index):
    teller = _staff(customer.home_branch, "teller")
    supervisor = _staff(customer.home_branch, "supervisor")
    if teller is None or supervisor is None:
        return None
    rng = random.Random(customer.cif)
    accounts = []

    def opened(product, key, deposit, **extra):
        # The customer brings the opening deposit in cash, counted into the teller's till.
        account = teller_actions.request_opening_with_cash(
            actor=teller, customer=customer, product=product, counts=Denominations.largest_first(deposit),
            idempotency_key=key, **extra)
        if account.status == DepositStatus.PENDING:
            approve_request(actor=supervisor, request_id=account.opening_request_id)
            account.refresh_from_db()
        accounts.append(account)
        return account

    nominee = actions.Nominee(name="Anil " + (customer.last_name or "Kumar"), relationship="Spouse")
    savings = opened("SB", f"demo-sb-{customer.cif}", rng.randrange(20_000, 80_000) * 100, nominee=nominee)
    if index % 3 == 1:
        opened("CA", f"demo-ca-{customer.cif}", rng.randrange(1_00_000, 3_00_000) * 100,
               overdraft_limit=50_000_00)
    if index % 2 == 0:
        savings.ledger_account.refresh_from_db()
        fd = actions.open_fixed_deposit(actor=teller, source=savings, principal=10_000_00, months=12,
                                        idempotency_key=f"demo-fd-{customer.cif}")
        accounts.append(fd)
    return {"customer": customer, "savings": savings, "accounts": accounts, "rng": rng,
            "salary": rng.randrange(45_000, 1_20_000) * 100}


def _post(plan, day, n, lines, narration, kind, channel, reference=""):
    post_entry(actor=None, lines=lines, kind=kind, narration=narration, channel=channel, reference=reference,
               idempotency_key=f"demo-txn-{plan['customer'].cif}-{day.isoformat()}-{n}")


def _day_of(plan, day, start):
    """What happened in one customer's savings account on `day`."""
    account = plan["savings"].ledger_account
    account.refresh_from_db()
    rng = plan["rng"]
    rbi = LedgerAccount.objects.get(code=RBI_SETTLEMENT)
    if day.day == 1 or (day - start).days == 1:
        amount = plan["salary"]
        _post(plan, day, 0, [Line.debit(rbi, amount), Line.credit(account, amount)],
              f"NEFT CR Infosys Ltd salary {day:%b %Y}", EntryKind.PAYMENT, Channel.SYSTEM,
              f"CBSBN{day:%y%j}{rng.randrange(10**6):06d}")
        account.refresh_from_db()
    events = [
        (0.35, "UPI DR {} {}", ("Swiggy", "Zomato", "BigBasket", "Uber", "Ola", "DMart"), (150, 1_800)),
        (0.10, "NEFT DR {} {}", ("Tata Power", "Airtel", "LIC premium", "Society maintenance"), (800, 6_500)),
        # Other banks' ATMs settle through the RBI like any interbank payment.
        (0.08, "ATM WDL {} {}", ("Andheri ATM", "Indiranagar ATM", "Dadar ATM"), (2_000, 10_000)),
        (0.06, "UPI CR {} {}", ("from Rahul", "refund Amazon", "from Sneha"), (300, 4_000)),
    ]
    for n, (chance, text, who, (low, high)) in enumerate(events, start=1):
        if rng.random() >= chance:
            continue
        amount = rng.randrange(low, high) * 100
        label = text.format(rng.choice(who), f"{rng.randrange(10**11, 10**12)}")
        if text.startswith("UPI CR"):
            lines = [Line.debit(rbi, amount), Line.credit(account, amount)]
        else:
            try:
                check_debit(account.pk, amount)  # the ledger's own rule: a spend the money cannot cover is skipped
            except BankingError:
                continue
            lines = [Line.debit(account, amount), Line.credit(rbi, amount)]
        kind = EntryKind.CASH_WITHDRAWAL if text.startswith("ATM") else EntryKind.PAYMENT
        channel = Channel.ATM if text.startswith("ATM") else Channel.INTERNET
        _post(plan, day, n, lines, label[:80], kind, channel)
        account.refresh_from_db()
