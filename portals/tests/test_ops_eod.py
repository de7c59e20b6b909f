"""End of day in the operations portal: the live screen and its pre-checks, Start,
the history, the trial balances kept at each close, and the holiday calendar."""

import datetime

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest, Status
from banking.core import eod
from banking.ledger.models import BusinessDate, Holiday
from banking.operations import actions
from banking.operations.eod import ROLL, SEAL
from banking.operations.models import EodRun, RunState
from banking.teller.tests.factories import funded_branch, supervisor_for, teller_with_open_till
from banking.testing import make_user
from banking.users.roles import Role

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def monday(monkeypatch):
    """Business date and calendar on MONDAY; the day holds only the controller's steps."""
    BusinessDate.objects.update_or_create(pk=1, defaults={"date": MONDAY})
    monkeypatch.setattr(actions, "calendar_date", lambda: MONDAY)
    monkeypatch.setattr(eod, "_steps", {SEAL.name: SEAL, ROLL.name: ROLL})


@pytest.fixture
def ops():
    return make_user(Role.OPERATIONS)


@pytest.fixture
def ops2():
    return make_user(Role.OPERATIONS)


@pytest.fixture
def auditor():
    return make_user(Role.AUDITOR)


# -- the end of day screen ----------------------------------------------------------------


def test_the_screen_lists_the_pre_checks_with_links_to_where_they_are_fixed(client, ops):
    branch = funded_branch(name="Fort, Mumbai")
    teller = teller_with_open_till(branch, supervisor_for(branch))
    client.force_login(ops)
    page = client.get(reverse("ops:eod")).text
    assert "Closes business date <strong data-testid=\"eod-date\">Monday, 07 Dec 2026</strong>" in page
    assert f"Fort, Mumbai: Till of {teller.display_name} is still open." in page
    assert f'href="{reverse("supervisor:tills")}" data-fix="tills">Tills and vault</a>' in page
    assert "Start end of day" in page


def test_start_is_refused_with_the_problems_and_nothing_starts(client, ops):
    branch = funded_branch(name="Fort, Mumbai")
    teller_with_open_till(branch, supervisor_for(branch))
    client.force_login(ops)
    response = client.post(reverse("ops:eod-start"))
    assert response.status_code == 200
    assert "End of day did not start. Put these right first:" in response.text
    assert "Fort, Mumbai has not closed its cash for 07 Dec 2026." in response.text
    assert not EodRun.objects.exists()


def test_start_begins_the_run_and_the_live_fragment_follows_it(client, ops, run_jobs):
    client.force_login(ops)
    response = client.post(reverse("ops:eod-start"))
    assert response.status_code == 302 and response.url == reverse("ops:eod")
    run = EodRun.objects.get()
    page = client.get(reverse("ops:eod")).text
    assert f'hx-get="{reverse("ops:eod")}?watch={run.pk}"' in page
    assert "Roll the business date and begin the next day" in page
    assert "Waiting for a background worker to take it up." in page
    fragment = client.get(reverse("ops:eod"), {"watch": run.pk}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="eod-live"') and "<html" not in fragment.text
    # Once the run it watched has finished, the fragment has the whole page reloaded.
    run_jobs()
    done = client.get(reverse("ops:eod"), {"watch": run.pk}, headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"
    page = client.get(reverse("ops:eod")).text
    assert 'data-testid="eod-state">Done</span>' in page and "every 2s" not in page
    # The new date is ahead of the calendar: its own end of day waits for its day.
    assert "Tuesday, 08 Dec 2026" in page and "Its end of day runs once the day has come." in page
    assert "Start end of day" not in page


def test_starting_while_it_runs_says_so(client, ops, ops2):
    client.force_login(ops)
    client.post(reverse("ops:eod-start"))
    client.force_login(ops2)
    response = client.post(reverse("ops:eod-start"), follow=True)
    assert "already running: started by" in response.text
    assert EodRun.objects.count() == 1


def test_roles_other_than_operations_read_the_screen_but_cannot_start(client, auditor):
    client.force_login(auditor)
    page = client.get(reverse("ops:eod"))
    assert page.status_code == 200 and "Only the operations team starts end of day." in page.text
    assert client.post(reverse("ops:eod-start")).status_code == 403
    teller = make_user(Role.TELLER, branch=funded_branch())
    client.force_login(teller)
    assert client.get(reverse("ops:eod")).status_code == 403


def test_the_operations_home_opens_end_of_day(client, ops):
    client.force_login(ops)
    page = client.get(reverse("ops:home")).text
    assert f'href="{reverse("ops:eod")}"' in page


# -- history and trial balances ------------------------------------------------------------


def finished_run(client, ops, run_jobs):
    client.force_login(ops)
    client.post(reverse("ops:eod-start"))
    run_jobs()
    return EodRun.objects.get(business_date=MONDAY)


def test_the_history_lists_past_days_and_opens_each(client, ops, run_jobs, auditor):
    run = finished_run(client, ops, run_jobs)
    assert run.state == RunState.DONE
    client.force_login(auditor)
    history = client.get(reverse("ops:eod-history")).text
    detail_url = reverse("ops:eod-run", kwargs={"date": "2026-12-07"})
    assert detail_url in history and "Mon 07 Dec 2026" in history
    assert "<summary>2 of 2 ran</summary>" in history and "Roll the business date and begin the next day" in history
    detail = client.get(detail_url).text
    assert "Seal the audit trail and keep the trial balance" in detail and "Business date 08 Dec 2026 begins" in detail
    assert client.get(reverse("ops:eod-run", kwargs={"date": "2026-02-30"})).status_code == 404
    assert client.get(reverse("ops:eod-run", kwargs={"date": "2026-12-01"})).status_code == 404


def test_a_kept_trial_balance_is_compared_with_a_later_one(client, ops, run_jobs, monkeypatch):
    finished_run(client, ops, run_jobs)
    monkeypatch.setattr(actions, "calendar_date", lambda: MONDAY + datetime.timedelta(days=1))
    client.post(reverse("ops:eod-start"))
    run_jobs()
    url = reverse("ops:eod-trial-balance")
    page = client.get(url, {"date": "2026-12-07", "compare": "2026-12-08"}).text
    assert "Trial balances kept at end of day" in page
    assert '<th scope="col" class="text-end">07 Dec 2026</th>' in page
    assert '<th scope="col" class="text-end">08 Dec 2026</th>' in page
    refused = client.get(url, {"date": "2026-12-08", "compare": "2026-12-07"}).text
    assert "Compare with a later date than the one shown." in refused
    assert "choose a date from the list" in client.get(url, {"date": "2019-01-01"}).text
    assert client.get(url, {"date": "x" * 50}).status_code == 200


def test_no_trial_balance_kept_yet(client, auditor):
    client.force_login(auditor)
    assert "No trial balance has been kept yet" in client.get(reverse("ops:eod-trial-balance")).text


# -- holidays --------------------------------------------------------------------------------


def test_a_holiday_is_asked_for_then_approved_by_another(client, ops, ops2):
    client.force_login(ops)
    response = client.post(reverse("ops:holidays"), {"date": "2026-12-25", "name": "Christmas",
                                                     "idempotency_key": "h" * 32})
    assert response.status_code == 302
    approval = ApprovalRequest.objects.get(kind="ledger.holiday_add")
    assert not Holiday.objects.exists()
    page = client.get(reverse("ops:holidays")).text
    assert "Make Fri 25 Dec 2026 a bank holiday: Christmas" in page
    assert "Another member of operations approves your request." in page
    assert client.post(reverse("ops:holiday-request-approve", kwargs={"pk": approval.pk})).status_code == 302
    approval.refresh_from_db()
    assert approval.status == Status.PENDING  # the maker cannot approve their own

    client.force_login(ops2)
    client.post(reverse("ops:holiday-request-approve", kwargs={"pk": approval.pk}))
    holiday = Holiday.objects.get()
    assert (holiday.date, holiday.name, holiday.added_by, holiday.approved_by) == (
        datetime.date(2026, 12, 25), "Christmas", ops, ops2)
    page = client.get(reverse("ops:holidays"), {"year": "2026"}).text
    assert 'title="Christmas"' in page and "Entered by" in page


def test_a_holiday_in_the_past_or_today_is_refused_in_words(client, ops):
    client.force_login(ops)
    past = client.post(reverse("ops:holidays"), {"date": "2026-12-01", "name": "Too late",
                                                 "idempotency_key": "p" * 32})
    assert past.status_code == 200
    assert "01 Dec 2026 is in the past: a holiday can only be entered for a date after the business date" in past.text
    today = client.post(reverse("ops:holidays"), {"date": "2026-12-07", "name": "Today",
                                                  "idempotency_key": "q" * 32})
    assert "is today&#x27;s business date" in today.text
    assert not ApprovalRequest.objects.exists()


def test_a_holiday_removal_goes_through_a_second_person_and_a_rejection_keeps_it(client, ops, ops2):
    Holiday.objects.create(date=datetime.date(2026, 12, 25), name="Christmas", added_by=ops, approved_by=ops2)
    client.force_login(ops)
    client.post(reverse("ops:holiday-remove", kwargs={"date": "2026-12-25"}))
    approval = ApprovalRequest.objects.get(kind="ledger.holiday_remove")
    client.force_login(ops2)
    client.post(reverse("ops:holiday-request-reject", kwargs={"pk": approval.pk}), {"reason": "It is Christmas"})
    approval.refresh_from_db()
    assert approval.status == Status.REJECTED and Holiday.objects.exists()
    client.force_login(ops)
    client.post(reverse("ops:holiday-remove", kwargs={"date": "2026-12-25"}))
    again = ApprovalRequest.objects.filter(kind="ledger.holiday_remove", status=Status.PENDING).get()
    client.force_login(ops2)
    client.post(reverse("ops:holiday-request-approve", kwargs={"pk": again.pk}))
    assert not Holiday.objects.exists()
    assert client.post(reverse("ops:holiday-remove", kwargs={"date": "not-a-date"})).status_code == 404


def test_holidays_are_read_by_the_operations_side_and_changed_only_by_operations(client, auditor):
    client.force_login(auditor)
    page = client.get(reverse("ops:holidays"))
    assert page.status_code == 200 and "Add a holiday" not in page.text
    assert client.post(reverse("ops:holidays"), {"date": "2026-12-25", "name": "X"}).status_code == 403
    assert client.post(reverse("ops:holiday-remove", kwargs={"date": "2026-12-25"})).status_code == 403
    customer = make_user(Role.CUSTOMER)
    client.force_login(customer)
    assert client.get(reverse("ops:holidays")).status_code == 403


def test_the_calendar_marks_sundays_and_the_second_and_fourth_saturdays(client, ops, settings):
    settings.CBS_WEEKLY_HOLIDAYS = True
    client.force_login(ops)
    page = client.get(reverse("ops:holidays"), {"year": "2026"}).text
    december = page.split('aria-label="December 2026"')[1].split("</table>")[0]
    # December 2026: Saturday the 12th is the second, the 26th the fourth; the 19th is a working day.
    assert "12<span class=\"visually-hidden\"> (Second Saturday)</span>" in december
    assert "26<span class=\"visually-hidden\"> (Fourth Saturday)</span>" in december
    assert "13<span class=\"visually-hidden\"> (Sunday)</span>" in december
    assert "19<span class=\"visually-hidden\">" not in december


# -- the teller's screens on a holiday --------------------------------------------------------------


def test_the_teller_screens_say_the_counters_are_closed_on_a_holiday(client, ops, ops2):
    branch = funded_branch()
    teller = make_user(Role.TELLER, branch=branch)
    client.force_login(teller)
    assert 'data-testid="holiday-banner"' not in client.get(reverse("teller:home")).text
    Holiday.objects.create(date=MONDAY, name="Guru Nanak Jayanti", added_by=ops, approved_by=ops2)
    page = client.get(reverse("teller:home")).text
    assert "Monday, 07 Dec 2026 is a bank holiday (Guru Nanak Jayanti): the counters and cheque work are closed." \
        in page
    client.force_login(ops)
    assert 'data-testid="holiday-banner"' not in client.get(reverse("ops:home")).text
