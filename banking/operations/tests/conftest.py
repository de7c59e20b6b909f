import datetime

import pytest

from banking.core import eod
from banking.ledger.models import BusinessDate
from banking.testing import make_user
from banking.users.roles import Role

from .. import actions
from ..eod import ROLL, SEAL

# A Monday, a working day: the business date and the calendar's in these tests.
MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture
def ops(db):
    return make_user(Role.OPERATIONS, mfa=False)


@pytest.fixture
def ops2(db):
    return make_user(Role.OPERATIONS, mfa=False)


def set_business_date(date):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": date})


@pytest.fixture
def on_monday(db, monkeypatch):
    """The business date and the calendar are both MONDAY."""
    set_business_date(MONDAY)
    monkeypatch.setattr(actions, "calendar_date", lambda: MONDAY)
    return MONDAY


@pytest.fixture
def day_of(monkeypatch):
    """`day_of(*steps)`: the day has only these steps (the controller's own two
    after them unless `own=False`), whatever the other apps registered."""

    def only(*steps, own=True):
        registry = {step.name: step for step in steps}
        if own:
            registry.update({SEAL.name: SEAL, ROLL.name: ROLL})
        monkeypatch.setattr(eod, "_steps", registry)
        return eod.registered()

    return only
