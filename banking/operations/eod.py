"""The controller's own steps of the day (banking.core.eod): the last two."""

from banking.core.eod import Step, register

from .actions import roll_business_date, seal_and_snapshot

SEAL = register(Step(
    name="operations.seal_and_snapshot",
    title="Seal the audit trail and keep the trial balance",
    order=100,
    run=seal_and_snapshot,
))
ROLL = register(Step(
    name="operations.roll_business_date",
    title="Roll the business date and begin the next day",
    order=110,
    run=roll_business_date,
))
