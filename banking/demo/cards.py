"""The demo bank's ATMs and Priya's debit card.

Three ATMs: two at Fort, Mumbai (one in the branch lobby, well stocked; one at
Churchgate station, low on cash: a few ₹100 notes and no ₹500s), one at
Koramangala, Bengaluru. Their first load comes from the currency chest (the RBI
settlement GL), as the vaults' did, so the vaults' counted notes stay as they are.
Priya gets a RuPay debit card on her savings account with the demo PIN, so the
switch can be driven at once. Run again, it adds nothing: terminals are found by
id, loads posted once per key, and Priya's active card is kept.
"""

from banking.cards.actions import issue_card, load_terminal, register_terminal
from banking.cards.models import Card, CardStatus, Terminal
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.ledger.chart import RBI_SETTLEMENT
from banking.ledger.models import LedgerAccount
from banking.users.models import Branch, User

DEMO_PIN = "2580"
# terminal id, branch code, location, notes loaded {denomination: count}
TERMINALS = [
    ("CBSA0001", "000001", "Fort branch lobby, Mumbai", {500: 400, 200: 300, 100: 500}),
    ("CBSA0002", "000001", "Churchgate station, Mumbai", {200: 6, 100: 12}),
    ("CBSA0003", "000002", "Forum Mall, Koramangala, Bengaluru", {500: 300, 200: 300, 100: 400}),
]


def seed_cards():
    chest = LedgerAccount.objects.get(code=RBI_SETTLEMENT)
    for terminal_id, branch_code, location, notes in TERMINALS:
        branch = Branch.objects.filter(code=branch_code).first()
        if branch is None:
            continue
        terminal = Terminal.objects.filter(terminal_id=terminal_id).first() or register_terminal(
            actor=None, branch=branch, terminal_id=terminal_id, location=location)
        load_terminal(actor=None, terminal=terminal, notes=notes, source=chest,
                      idempotency_key=f"seed-atm-{terminal_id}",
                      narration=f"Currency chest remittance to ATM {terminal_id}")
    customer = Customer.objects.filter(user__username="customer").first()
    if customer is None:
        return
    savings = DepositAccount.objects.for_customer(customer).filter(product__kind="savings").order_by("pk").first()
    if savings is None or Card.objects.filter(account=savings, customer=customer, status=CardStatus.ACTIVE).exists():
        return
    teller = User.objects.filter(groups__name="teller", staff_profile__branch=savings.branch).order_by(
        "username").first()
    card = issue_card(actor=teller, account=savings, customer=customer)
    card.set_pin(DEMO_PIN)
    card.save(update_fields=["pin_hash", "wrong_pins", "wrong_pins_on"])
