"""The end of day's step registry.

Each app that has work to do when the bank's day closes registers its steps here, in
its own `eod.py` (imported by its AppConfig.ready()). The controller in
`banking.operations` runs the registered steps in order and knows none of them by
name: loans and cards add theirs later without touching it. The registry lives in
core so that every app can register without importing the controller.

A step is idempotent: run twice for the same date (after a crash, or by a rerun) it
changes nothing the second time. Every posting it makes carries an idempotency key
built from the date, the step's name and the account (`posting_key`).

A step over many accounts names its partitions: id ranges that run as separate jobs
on whatever workers exist. The controller starts the next step only when every
partition of the current one is done.

Places in the day (`order`), so that later steps slot in between:
    10 release expired holds          (ledger)
    20 standing instructions          (payments)
    30 recurring deposit instalments  (deposits)
    32 loans: dues and the auto-debit (loans)
    36 ATM charges past the free ones (cards)
    38 ATM compensation past T+5      (cards)
    40 savings and current accrual    (deposits)
    42 loans: interest accrual        (loans)
    44 loans: floating-rate resets    (loans)
    45 savings accrual to the GL      (deposits)
    50 quarter-end interest credit    (deposits)
    55 rounding of the quarter's interest (deposits)
    60 fixed deposits                 (deposits)
    63 fixed deposits' interest payable (deposits)
    70 dormancy                       (deposits)
    80 minimum balance charges        (deposits)
    84 loans: classification, provisions (loans)
    90 re-KYC due                     (customers)
   100 seal the audit trail, trial balance snapshot (operations)
   110 roll the business date         (operations)
"""

from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_PARTITION_SIZE = 10_000


@dataclass(frozen=True)
class Step:
    """One step of the day.

    name:       stable identifier, "<app>.<what>", also used in posting keys
    title:      what the operations screen calls it
    order:      its place in the day (see above)
    run:        run(*, date, first=None, last=None) -> int, the items it processed;
                `first`/`last` bound the ids of one partition (both None: the whole step)
    partitions: partitions(*, date, size) -> [(first, last), ...] inclusive id ranges;
                None for a step that runs once, whole
    applies:    applies(date) -> bool, False on dates the step has nothing to do
                (a quarter's credit on any day but the quarter's last); None: every date
    """

    name: str
    title: str
    order: int
    run: Callable[..., int]
    partitions: Callable[..., list[tuple[int, int]]] | None = None
    applies: Callable[..., bool] | None = None

    def applies_on(self, date):
        return self.applies is None or bool(self.applies(date))


_steps: dict[str, Step] = {}


def register(step):
    """Add `step` to the day. Registering the same name twice (a module imported
    again) replaces it; two steps may not share a place in the day."""
    clash = next((s for s in _steps.values() if s.order == step.order and s.name != step.name), None)
    if clash is not None:
        raise ValueError(f"End-of-day step {step.name} wants place {step.order}, which {clash.name} has.")
    _steps[step.name] = step
    return step


def registered():
    """Every registered step, in the day's order."""
    return sorted(_steps.values(), key=lambda step: step.order)


def posting_key(date, step_name, subject):
    """The idempotency key of a posting a step makes for `subject` (an account id, a
    product and branch ...) on `date`: a rerun of the step finds the first posting."""
    return f"eod:{date.isoformat()}:{step_name}:{subject}"


def id_ranges(ids_query, size=DEFAULT_PARTITION_SIZE):
    """Inclusive (first, last) id ranges of at most `size` ids each, over the ids of
    the queryset `ids_query` in ascending order: the usual `partitions` of a step.
    Worked out in the database, one row per range: a million accounts' ids need not
    travel to the controller to be cut into a hundred ranges."""
    from django.db import connections

    query = ids_query.order_by().values("pk")
    sql, params = query.query.sql_with_params()
    with connections[query.db].cursor() as cursor:
        cursor.execute(
            "SELECT min(r.pk), max(r.pk) FROM (SELECT q.pk, (row_number() OVER (ORDER BY q.pk) - 1) / %s AS n"  # noqa: S608 the queryset's own SQL
            f" FROM ({sql}) AS q(pk)) AS r GROUP BY r.n ORDER BY r.n", [size, *params])
        return [tuple(row) for row in cursor.fetchall()]
