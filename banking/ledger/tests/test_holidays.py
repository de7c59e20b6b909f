"""The bank's holiday calendar: the rule, entered holidays, and maker-checker."""

import datetime

import pytest

from banking.approvals.actions import approve_request, submit_request
from banking.approvals.models import Status
from banking.audit.models import AuditEvent
from banking.core.errors import NotPermitted, ValidationFailed
from banking.ledger.actions import add_holiday, remove_holiday
from banking.ledger.holidays import holiday_name, holidays_between, is_holiday, rule_holiday
from banking.ledger.models import BusinessDate, Holiday
from banking.testing import make_user
from banking.users.roles import Role

MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def weekly_rule(settings):
    settings.CBS_WEEKLY_HOLIDAYS = True


@pytest.fixture
def people(db):
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": MONDAY})
    return make_user(Role.OPERATIONS, mfa=False), make_user(Role.OPERATIONS, mfa=False)


@pytest.mark.parametrize(("date", "expected"), [
    ("2026-12-06", "Sunday"),
    ("2026-12-05", None),  # the first Saturday
    ("2026-12-12", "Second Saturday"),
    ("2026-12-19", None),  # the third
    ("2026-12-26", "Fourth Saturday"),
    ("2027-01-30", None),  # a fifth Saturday
    ("2026-08-08", "Second Saturday"),  # the 8th is the last day a second Saturday can fall on
    ("2026-08-01", None),
    ("2026-12-07", None),
])
def test_the_weekly_rule(date, expected):
    assert rule_holiday(datetime.date.fromisoformat(date)) == expected


def test_the_rule_can_be_turned_off(settings):
    settings.CBS_WEEKLY_HOLIDAYS = False
    assert rule_holiday(datetime.date(2026, 12, 6)) is None


def test_an_entered_holiday_is_a_holiday(people):
    maker, checker = people
    christmas = datetime.date(2026, 12, 25)
    assert not is_holiday(christmas)
    add_holiday(actor=maker, checker=checker, date=christmas, name="  Christmas ")
    assert holiday_name(christmas) == "Christmas"
    december = holidays_between(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert december[christmas] == "Christmas" and december[datetime.date(2026, 12, 6)] == "Sunday"
    assert len([name for name in december.values() if name == "Sunday"]) == 4
    event = AuditEvent.objects.get(action="ledger.holiday_added")
    assert event.actor_id == checker.pk and "Christmas" in event.summary


@pytest.mark.parametrize(("date", "name", "words"), [
    ("2026-12-01", "Too late", "01 Dec 2026 is in the past"),
    ("2026-12-07", "Today", "07 Dec 2026 is today's business date"),
    ("2026-12-13", "On a Sunday", "13 Dec 2026 is already a bank holiday: Sunday."),
    ("2026-12-25", "   ", "Give the holiday's name"),
    ("2026-12-25", "x" * 81, "at most 80 characters"),
])
def test_a_holiday_that_cannot_be_is_refused_in_words(people, date, name, words):
    maker, checker = people
    with pytest.raises(ValidationFailed, match=words):
        add_holiday(actor=maker, checker=checker, date=datetime.date.fromisoformat(date), name=name)
    assert not Holiday.objects.exists()


def test_a_removal_is_refused_for_a_rule_holiday_and_one_whose_day_has_come(people):
    maker, checker = people
    with pytest.raises(ValidationFailed, match="a holiday by rule"):
        remove_holiday(actor=maker, checker=checker, date=datetime.date(2026, 12, 13))
    with pytest.raises(ValidationFailed, match="not a holiday that operations entered"):
        remove_holiday(actor=maker, checker=checker, date=datetime.date(2026, 12, 24))
    past = Holiday.objects.create(date=datetime.date(2026, 12, 2), name="Past", added_by=maker, approved_by=checker)
    with pytest.raises(ValidationFailed, match="is in the past"):
        remove_holiday(actor=maker, checker=checker, date=past.date)
    assert Holiday.objects.filter(pk=past.pk).exists()


def test_the_database_refuses_a_holiday_approved_by_its_maker(people):
    from django.db import IntegrityError

    maker, _ = people
    with pytest.raises(IntegrityError):
        Holiday.objects.create(date=datetime.date(2026, 12, 25), name="Mine", added_by=maker, approved_by=maker)


def test_a_holiday_request_is_carried_out_when_a_second_person_approves_it(people):
    maker, checker = people
    approval = submit_request(actor=maker, kind="ledger.holiday_add", amount=None, branch=None,
                              payload={"date": "2026-12-25", "name": "Christmas"}, summary="Christmas")
    with pytest.raises(NotPermitted):
        approve_request(actor=maker, request_id=approval.pk)
    teller = make_user(Role.SUPERVISOR, mfa=False, approval_limit=10**12)
    with pytest.raises(NotPermitted, match="not allowed to check Bank holiday"):
        approve_request(actor=teller, request_id=approval.pk)
    approve_request(actor=checker, request_id=approval.pk)
    approval.refresh_from_db()
    assert approval.status == Status.APPROVED
    assert Holiday.objects.get().approved_by == checker


def test_a_request_checked_after_its_day_came_fails_in_words(people):
    maker, checker = people
    approval = submit_request(actor=maker, kind="ledger.holiday_add", amount=None, branch=None,
                              payload={"date": "2026-12-08", "name": "Tomorrow"}, summary="Tomorrow")
    BusinessDate.objects.filter(pk=1).update(date=datetime.date(2026, 12, 8))
    with pytest.raises(ValidationFailed, match="today's business date"):
        approve_request(actor=checker, request_id=approval.pk)
    approval.refresh_from_db()
    assert approval.status == Status.FAILED and not Holiday.objects.exists()
