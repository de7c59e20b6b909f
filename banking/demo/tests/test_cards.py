import pytest
from django.core.management import call_command

from banking.cards.models import Card, Terminal
from banking.cards.switch import handle_message
from banking.cards.tests.factories import withdrawal
from banking.demo.cards import DEMO_PIN


@pytest.mark.django_db
def test_seed_demo_gives_three_atms_one_low_on_cash_and_priya_a_card_once():
    call_command("seed_demo")
    call_command("seed_demo")
    terminals = Terminal.objects.order_by("terminal_id")
    assert terminals.count() == 3
    loaded = {t.terminal_id: sum(c.denomination * c.count for c in t.cassettes.all()) for t in terminals}
    assert loaded == {"CBSA0001": 3_10_000, "CBSA0002": 2_400, "CBSA0003": 2_50_000}
    for terminal in terminals:
        terminal.ledger_account.refresh_from_db()
        assert terminal.ledger_account.balance == loaded[terminal.terminal_id] * 100
    card = Card.objects.get(customer__user__username="customer")
    atm = terminals[0]
    answer = handle_message(terminal=atm, message=withdrawal(atm, card.number, "2500.00", pin=DEMO_PIN))
    assert answer["response_code"] == "00"
