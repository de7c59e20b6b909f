"""Payments' step in the bank's end of day: the standing instructions due on the day
(place 20, see banking.core.eod).

The rules are `standing.run_standing_instructions`'s, unchanged: each instruction is
tried at most once per run date (`StandingInstructionRun` is unique on instruction
and date) and pays with the key `si-<instruction>-<due date>`, so a rerun of the step
after a crash, or the beginning of day's own run of the same date, pays nothing twice.
"""

import datetime

from banking.audit.context import audit_context
from banking.core.eod import Step, id_ranges, register

from .models import StandingInstruction
from .standing import run_standing_instructions

STANDING_INSTRUCTIONS = "payments.standing_instructions"


def _day(date):
    return datetime.date.fromisoformat(date) if isinstance(date, str) else date


def run_standing_instructions_step(*, date, first=None, last=None):
    """Pay the instructions due on `date` whose ids lie in [first, last]; returns how
    many were tried (paid, retried, refused or given up)."""
    with audit_context(channel="batch", actor_username=STANDING_INSTRUCTIONS):
        return len(run_standing_instructions(date=_day(date), first=first, last=last))


def standing_instruction_partitions(*, date, size):
    return id_ranges(StandingInstruction.objects.due(_day(date)), size)


register(Step(name=STANDING_INSTRUCTIONS, title="Standing instructions", order=20,
              run=run_standing_instructions_step, partitions=standing_instruction_partitions))
