"""Terminals retry: the same messages replayed in any order, each repeated, leave
the same ledger as the messages sent once, in order."""

import random

import pytest
from django.db.models import Sum

from banking.ledger.models import JournalEntry, LedgerAccount

from ..actions import issue_card, set_controls
from ..switch import handle_message
from .factories import PIN, CardBank, withdrawal

UNIQUE = 600
DUPLICATES = 400


def a_bank_and_its_messages(prefix):
    """Three cards with money enough for every message, two ATMs, and UNIQUE messages
    (withdrawals and balance enquiries, each with its own STAN) spread over twelve days
    so that no card reaches its daily limit: an outcome that depends on order (the
    limit, three wrong PINs in a row) is the switch's rule, not a replay's fault."""
    bank = CardBank(balance=5_00_000_00)
    cards = [bank.card]
    for _ in range(2):
        account = bank.open_account(deposit=5_00_000_00)
        card = issue_card(actor=bank.teller, account=account)
        card.set_pin(PIN)
        card.save()
        cards.append(card)
    for card in cards:
        set_controls(actor=bank.user, card=card, atm_enabled=True, pos_enabled=True, ecommerce_enabled=False,
                     atm_daily_limit=50_000_00)
    atms = [bank.terminal(f"{prefix}000001", n500=2000, n200=2000, n100=2000),
            bank.terminal(f"{prefix}000002", n500=2000, n200=2000, n100=2000)]
    rng = random.Random(22)
    messages = []
    for n in range(UNIQUE):
        atm, card = atms[n % 2], cards[rng.randrange(3)]
        amount = f"{rng.choice([100, 500, 800, 1500, 2000])}.00"
        message = withdrawal(atm, card.number, amount, stan=f"{n + 1:06d}",
                             local_time=f"2026-12-{n % 12 + 1:02d}T10:00:00+05:30")
        if rng.random() < 0.15:
            message["processing_code"] = "31"
        messages.append((atm, message))
    return bank, atms, cards, messages


def the_ledger(atms, cards):
    """What the messages left: each account's and ATM's balance, and the entries by
    narration (terminal ids made alike), in order of narration."""
    balances = [LedgerAccount.objects.get(pk=c.account.ledger_account_id).balance for c in cards]
    balances += [LedgerAccount.objects.get(pk=a.ledger_account_id).balance for a in atms]
    entries = sorted(
        (narration[:8] + narration[10:], total) for narration, total in JournalEntry.objects.filter(
            narration__startswith="ATM WDL", postings__account__in=[a.ledger_account_id for a in atms]
        ).values_list("narration", "total"))
    return balances, entries


@pytest.mark.django_db
def test_replaying_in_random_order_with_duplicates_leaves_the_same_ledger():
    _, atms_a, cards_a, once = a_bank_and_its_messages("RA")
    for atm, message in once:
        handle_message(terminal=atm, message=message)
    _, atms_b, cards_b, again = a_bank_and_its_messages("RB")
    rng = random.Random(8583)
    replay = again + [rng.choice(again) for _ in range(DUPLICATES)]
    rng.shuffle(replay)
    assert len(replay) == UNIQUE + DUPLICATES
    for atm, message in replay:
        handle_message(terminal=atm, message=message)
    first, second = the_ledger(atms_a, cards_a), the_ledger(atms_b, cards_b)
    assert first == second
    assert len(first[1]) > UNIQUE // 2  # most messages were approved withdrawals
    # Money is neither made nor lost: what the accounts lost, the ATMs paid out.
    paid = JournalEntry.objects.filter(narration__startswith="ATM WDL").aggregate(total=Sum("total"))["total"]
    assert sum(5_00_000_00 - b for b in first[0][:3]) + sum(5_00_000_00 - b for b in second[0][:3]) == paid
