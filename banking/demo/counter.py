"""The demo bank's counter: each branch's vault counted by denomination, every
teller's till issued and opened for the business date, a cheque book on each
savings account, and a few deposits in the branch feed.

Run again (the same day or a later one), it opens the tills that are not open for
the current business date with what they hold, and posts nothing twice: the demo
deposits carry fixed idempotency keys per date.
"""

from banking.approvals.actions import approve_request
from banking.deposits.models import DepositAccount, DepositStatus
from banking.ledger.holidays import is_holiday
from banking.ledger.models import BusinessDate
from banking.teller.actions import (
    find_till,
    fund_vault,
    issue_cheque_book,
    open_till,
    request_cash_from_vault,
    take_cash_deposit,
)
from banking.teller.denominations import Denominations
from banking.teller.models import BranchDay, TillDay
from banking.users.models import User

# ₹50,00,000 in each vault: the notes a currency chest sends a branch.
VAULT_COUNTS = Denominations(n500=6_000, n200=5_000, n100=8_000, n50=2_000, n20=2_500, n10=4_000, coins=10_000)
# What a teller starts the day with: ₹3,00,000.
TILL_COUNTS = Denominations(n500=400, n200=300, n100=300, n50=100, n20=150, n10=150, coins=500)


def fund_vaults(branches):
    """Count each vault's opening cash. The key and the lines are the ones the demo
    ledger always used, so a database seeded before the vaults were counted gets its
    count without a second posting."""
    for branch in branches:
        fund_vault(actor=None, branch=branch, counts=VAULT_COUNTS, idempotency_key=f"seed-vault-{branch.code}",
                   narration=f"Currency chest remittance to {branch.name}")


def _staff(branch, role):
    return list(User.objects.filter(groups__name=role, staff_profile__branch=branch, is_active=True)
                .order_by("username"))


def seed_counter(branches):
    """Open the tellers' tills for the business date and give the counter something
    to show. Returns the number of tills opened. On a bank holiday the counters stay
    shut, as the teller screens then say; the next working day's seed opens them."""
    today = BusinessDate.objects.current()
    if is_holiday(today):
        return 0
    opened = 0
    for branch in branches:
        supervisors = _staff(branch, "supervisor")
        if not supervisors or BranchDay.objects.filter(branch=branch, business_date=today).exists():
            continue
        for teller in _staff(branch, "teller"):
            till = find_till(teller)
            if till is not None and TillDay.objects.filter(till=till, business_date=today).exists():
                continue
            if till is None or till.counts.is_zero():
                approve_request(actor=supervisors[0],
                                request_id=request_cash_from_vault(actor=teller, counts=TILL_COUNTS).pk)
                till = find_till(teller)
            open_till(actor=teller, counted=till.counts)
            opened += 1
        _cheque_books(branch, _staff(branch, "teller"))
        _deposits(branch, today)
    return opened


def _savings(branch):
    return (DepositAccount.objects.filter(branch=branch, status=DepositStatus.ACTIVE, product__code="SB")
            .select_related("ledger_account", "customer", "product", "branch").order_by("number"))


def _cheque_books(branch, tellers):
    if not tellers:
        return
    for account in _savings(branch):
        if not account.cheque_books.exists():
            issue_cheque_book(actor=tellers[0], account=account, leaves=20)


def _deposits(branch, today):
    """Two deposits by the branch's second teller, so that the first sees a colleague's work in the feed."""
    tellers = _staff(branch, "teller")
    accounts = list(_savings(branch)[:2])
    if len(tellers) < 2 or not accounts:
        return
    for n, (account, counts) in enumerate(zip(accounts, [Denominations(n500=20, n100=5),
                                                          Denominations(n200=10, n50=4)], strict=False)):
        take_cash_deposit(actor=tellers[1], account=account, amount=counts.value, counts=counts,
                          idempotency_key=f"demo-counter-{branch.code}-{today.isoformat()}-{n}")
