"""The queue screen (/ops/jobs/): operations see waiting, running, failed (with the
error) and retried jobs, filter them, and those allowed send a failed job back to
the queue, audited; anyone else is refused."""

import pytest
from django.urls import reverse

from banking.audit.models import AuditEvent
from banking.core import jobs
from banking.testing import make_user
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


@jobs.task(name="tests.portal.broken")
def broken(*, why):
    raise RuntimeError(why)


@jobs.task(name="tests.portal.fine", queue="reports")
def fine(*, n):
    return n


@pytest.fixture
def failed_job(run_jobs):
    job_id = jobs.defer(broken, why="the statement printer is out of paper")
    run_jobs()
    return job_id


@pytest.fixture
def ops(client):
    user = make_user(Role.OPERATIONS)
    client.force_login(user)
    return user


def test_the_queue_shows_a_failed_job_with_its_error_and_a_waiting_one(client, ops, failed_job):
    waiting = jobs.defer(fine, n=1)
    page = client.get(reverse("ops:jobs"))
    assert page.status_code == 200
    text = page.text
    assert "Background jobs" in text
    assert f'data-job="{failed_job}"' in text and f'data-job="{waiting}"' in text
    assert "RuntimeError: the statement printer is out of paper" in text
    assert "1 waiting" in text and "1 failed" in text
    assert "No worker is running" in text  # none has reported in this test
    assert "Every minute" in text and "audit.seal" in text  # the schedule
    assert reverse("ops:job-retry", args=[failed_job]) in text


def test_filters_by_status_queue_and_task(client, ops, failed_job):
    waiting = jobs.defer(fine, n=2)
    failed_only = client.get(reverse("ops:jobs"), {"status": "failed"}).text
    assert f'data-job="{failed_job}"' in failed_only and f'data-job="{waiting}"' not in failed_only
    by_queue = client.get(reverse("ops:jobs"), {"queue": "reports"}).text
    assert f'data-job="{waiting}"' in by_queue and f'data-job="{failed_job}"' not in by_queue
    by_task = client.get(reverse("ops:jobs"), {"task": "tests.portal.broken", "status": "waiting"}).text
    assert "0 jobs" in by_task
    # Values that are not choices change nothing and are no error.
    assert client.get(reverse("ops:jobs"), {"status": "nonsense", "queue": "x" * 300}).status_code == 200


def test_the_list_polls_as_a_fragment_in_the_background(client, ops, failed_job):
    fragment = client.get(reverse("ops:jobs"), {"status": "failed"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="job-results"')
    assert 'hx-trigger="every 5s"' in fragment.text and "X-CBS-Background" in fragment.text
    assert "status=failed" in fragment.text  # the poll keeps the filter
    assert "Scheduled jobs" not in fragment.text


def test_retrying_a_failed_job_puts_it_back_in_the_queue_and_is_audited(client, ops, failed_job, run_jobs):
    response = client.post(reverse("ops:job-retry", args=[failed_job]), follow=True)
    assert response.status_code == 200
    assert f"Job #{failed_job} (tests.portal.broken) is back in the queue" in response.text
    job = jobs.jobs_query().get(pk=failed_job)
    assert (job.status, job.retries, job.runs) == ("todo", 1, 1)
    event = AuditEvent.objects.get(action="core.job_retried")
    assert (event.actor_id, event.object_id) == (ops.pk, str(failed_job))
    # It runs again (and fails again: the printer is still out of paper), and shows as retried.
    run_jobs()
    assert jobs.jobs_query().get(pk=failed_job).failures == 2
    retried = client.get(reverse("ops:jobs"), {"status": "retried"}).text
    assert f'data-job="{failed_job}"' in retried and "retried, 2 runs so far" in retried


def test_retrying_over_htmx_answers_with_the_list_and_a_message(client, ops, failed_job):
    url = reverse("ops:job-retry", args=[failed_job]) + "?status=failed"
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="job-results"')
    assert "is back in the queue" in response.text  # the toast
    assert f'data-job="{failed_job}"' not in response.text  # waiting now, so out of the failed filter


def test_a_job_that_has_not_failed_cannot_be_retried(client, ops, failed_job):
    waiting = jobs.defer(fine, n=3)
    for job_id in (waiting, 999_999, 2**63):
        response = client.post(reverse("ops:job-retry", args=[job_id]), follow=True)
        assert response.status_code == 200
        assert "has not failed" in response.text
    assert jobs.jobs_query().get(pk=waiting).status == "todo"
    assert not AuditEvent.objects.filter(action="core.job_retried").exists()


@pytest.mark.parametrize("role", [Role.COMPLIANCE, Role.AUDITOR, Role.ADMINISTRATOR])
def test_others_on_the_operations_side_read_the_queue_but_may_not_retry(client, failed_job, role):
    client.force_login(make_user(role))
    page = client.get(reverse("ops:jobs"))
    assert page.status_code == 200
    assert reverse("ops:job-retry", args=[failed_job]) not in page.text
    assert client.post(reverse("ops:job-retry", args=[failed_job])).status_code == 403
    assert jobs.jobs_query().get(pk=failed_job).status == "failed"
    assert not AuditEvent.objects.filter(action="core.job_retried").exists()


@pytest.mark.parametrize("role", [Role.TELLER, Role.SUPERVISOR, Role.CUSTOMER])
def test_the_wrong_role_is_refused(client, failed_job, role):
    client.force_login(make_user(role))
    assert client.get(reverse("ops:jobs")).status_code == 403
    assert client.post(reverse("ops:job-retry", args=[failed_job])).status_code == 403
    assert jobs.jobs_query().get(pk=failed_job).status == "failed"


def test_the_retry_is_post_only(client, ops, failed_job):
    assert client.get(reverse("ops:job-retry", args=[failed_job])).status_code == 405
