"""The standing instructions as a step of end of day: registered in its place, paid
once per instruction and date however often the step (or one partition) runs."""

import datetime

import pytest

from banking.core import eod
from banking.ledger.models import BusinessDate

from ..eod import STANDING_INSTRUCTIONS, run_standing_instructions_step, standing_instruction_partitions
from ..models import Payment, RunOutcome, StandingInstructionRun
from ..standing import create_standing_instruction
from .factories import fresh

pytestmark = pytest.mark.django_db

D = datetime.date


def test_the_step_is_registered_in_its_place():
    step = next(s for s in eod.registered() if s.name == STANDING_INSTRUCTIONS)
    assert step.order == 20 and step.partitions is not None and step.applies_on(D(2026, 6, 14))


def _to_own_account(bank, amount, start):
    account, own = bank.account(balance=5_000_00), bank.account(balance=0)
    own.customer = account.customer
    own.save(update_fields=["customer"])
    create_standing_instruction(actor=None, customer=account.customer, debit_account=account, credit_account=own,
                                amount=amount, frequency="monthly", start_on=start)
    return account, own


def test_the_step_pays_each_due_instruction_once_however_often_it_runs(bank):
    day = D(2026, 6, 10)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    first_from, first_to = _to_own_account(bank, 1_250_00, day)
    second_from, second_to = _to_own_account(bank, 300_00, day)
    _to_own_account(bank, 99_00, D(2026, 6, 11))  # not due until tomorrow

    parts = standing_instruction_partitions(date=day, size=1)
    assert len(parts) == 2  # the two due instructions, one partition each
    assert sum(run_standing_instructions_step(date=day.isoformat(), first=lo, last=hi) for lo, hi in parts) == 2
    # The whole step again, as after a crash: nothing more is tried or paid.
    assert run_standing_instructions_step(date=day) == 0
    assert sum(run_standing_instructions_step(date=day, first=lo, last=hi) for lo, hi in parts) == 0

    assert fresh(first_from).balance == 3_750_00 and fresh(first_to).balance == 1_250_00
    assert fresh(second_from).balance == 4_700_00 and fresh(second_to).balance == 300_00
    assert Payment.objects.count() == 2
    assert set(StandingInstructionRun.objects.values_list("outcome", flat=True)) == {RunOutcome.PAID}


def test_a_partition_touches_only_its_own_instructions(bank):
    day = D(2026, 6, 10)
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": day})
    low_from, _ = _to_own_account(bank, 100_00, day)
    high_from, _ = _to_own_account(bank, 200_00, day)
    (low, _), (high, _) = standing_instruction_partitions(date=day, size=1)
    assert run_standing_instructions_step(date=day, first=high, last=high) == 1
    assert fresh(low_from).balance == 5_000_00 and fresh(high_from).balance == 4_800_00
