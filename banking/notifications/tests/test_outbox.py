"""The outbox: mail that cannot go out is queued, never a server error, and sent once,
by a background job deferred in the same transaction as the message."""

import datetime
import smtplib
import threading

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from banking.notifications.actions import send_queued_mail
from banking.notifications.models import OutboundEmail
from banking.testing import make_user, run_together
from banking.users.roles import Role

OUTBOX = "banking.notifications.backends.OutboxBackend"


def through_outbox(backend):
    mailer = {"BACKEND": OUTBOX, "OPTIONS": {"deliver_with": {"BACKEND": backend}}}
    return override_settings(MAILERS={"default": mailer})


class RefusingBackend(BaseEmailBackend):
    """A mail server that is not there."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


class GreylistingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(451, b"Try again later")


class HeldBackend(MemoryBackend):
    """Delivers, but only once the test lets it: the row stays locked meanwhile."""

    started, release = threading.Event(), threading.Event()

    def send_messages(self, messages):
        HeldBackend.started.set()
        assert HeldBackend.release.wait(10)
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_password_reset_while_the_mail_server_is_down_is_queued_and_sent_later(client, run_jobs):
    customer = make_user(Role.CUSTOMER)

    with through_outbox(f"{__name__}.RefusingBackend"):
        response = client.post(reverse("account_reset_password"), {"email": customer.email})
        assert OutboundEmail.objects.get().attempts == 0  # the page did not wait for the mail server
        assert run_jobs() == 1

    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert "on its way" in client.get(response["Location"]).text
    queued = OutboundEmail.objects.get()
    assert queued.to == [customer.email] and queued.sent_at is None
    assert queued.attempts == 1 and "Connection refused" in queued.last_error
    assert queued.next_attempt_at > timezone.now()
    assert mail.outbox == []

    # Not due yet: the next run leaves it alone.
    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        call_command("send_queued_mail")
        assert mail.outbox == []
        OutboundEmail.objects.update(next_attempt_at=timezone.now())
        call_command("send_queued_mail")
        call_command("send_queued_mail")

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 2 and queued.last_error == ""


@pytest.mark.django_db
def test_each_failure_waits_longer_up_to_an_hour(run_jobs):
    now = timezone.now()
    with through_outbox(f"{__name__}.GreylistingBackend"):
        send_mail("Statement ready", "Your statement is ready.", None, ["asha@example.in"])
        run_jobs()
        waits = []
        for _ in range(9):
            email = OutboundEmail.objects.get()
            waits.append(email.next_attempt_at - now)
            now = email.next_attempt_at
            assert send_queued_mail(now=now) == (0, 1)
    minutes = [wait // datetime.timedelta(minutes=1) for wait in waits[1:]]
    assert minutes == [2, 4, 8, 16, 32, 60, 60, 60]
    assert "Try again later" in OutboundEmail.objects.get().last_error


@pytest.mark.django_db
def test_mail_of_a_rolled_back_change_is_never_sent(run_jobs):
    class Refused(Exception):
        pass

    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        with pytest.raises(Refused), transaction.atomic():
            send_mail("Payment sent", "₹5,000 sent.", None, ["asha@example.in"])
            raise Refused
        assert run_jobs() == 0  # no message, and no job to send it
    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_text_and_html_bodies_reach_the_mail_server_as_sent(run_jobs):
    message = EmailMultiAlternatives("Welcome", "Plain words", "CBS Bank <no-reply@cbsbank.example>",
                                     ["asha@example.in"], cc=["branch@cbsbank.example"],
                                     reply_to=["help@cbsbank.example"], headers={"X-CBS-Kind": "welcome"})
    message.attach_alternative("<p>Plain words</p>", "text/html")
    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        assert message.send() == 1
        assert mail.outbox == []  # sent by its job, once the message is committed
        run_jobs()

    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.from_email) == ("Welcome", "Plain words", message.from_email)
    assert sent.to == ["asha@example.in"] and sent.cc == ["branch@cbsbank.example"]
    assert sent.reply_to == ["help@cbsbank.example"] and sent.extra_headers["X-CBS-Kind"] == "welcome"
    assert sent.alternatives[0].content == "<p>Plain words</p>"
    assert OutboundEmail.objects.get().sent_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_runs_at_once_send_a_message_once():
    with through_outbox(f"{__name__}.RefusingBackend"):
        send_mail("Payment received", "₹5,000 received.", None, ["asha@example.in"])
    OutboundEmail.objects.update(next_attempt_at=timezone.now())
    HeldBackend.started.clear()
    HeldBackend.release.clear()

    def second_run():
        assert HeldBackend.started.wait(10)
        try:
            return send_queued_mail()  # finds the row locked by the first run and skips it
        finally:
            HeldBackend.release.set()

    with through_outbox(f"{__name__}.HeldBackend"):
        results, errors = run_together(send_queued_mail, second_run)

    assert errors == []
    assert sorted(results) == [(0, 1), (1, 0)]
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get().attempts == 1


@pytest.mark.django_db
def test_a_reset_for_an_unknown_address_does_not_invite_signing_up(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.in"})

    assert response.status_code == 302
    [sent] = mail.outbox
    assert sent.to == ["nobody@example.in"]
    assert "signup" not in sent.body and "sign up" not in sent.body.lower()
    assert reverse("account_signup") not in sent.body
    assert "branch" in sent.body
    assert sent.subject.endswith("No internet-banking login uses this address")


def _mail_jobs():
    from banking.core.jobs import jobs_query

    return list(jobs_query().filter(task_name="notifications.send_email"))


@pytest.mark.django_db(transaction=True)
def test_each_message_has_its_send_job_from_the_same_commit():
    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        send_mail("Payment sent", "₹5,000 sent.", None, ["asha@example.in"])
    email = OutboundEmail.objects.get()
    [job] = _mail_jobs()
    assert (job.status, job.queue_name, job.args) == ("todo", "mail", {"email_id": email.pk})
    assert mail.outbox == []


def test_a_refusal_is_retried_by_the_job_at_the_messages_next_attempt(run_jobs):
    with through_outbox(f"{__name__}.GreylistingBackend"):
        send_mail("Statement ready", "Your statement is ready.", None, ["asha@example.in"])
        run_jobs()
    email = OutboundEmail.objects.get()
    [job] = _mail_jobs()
    assert (job.status, job.attempts, job.scheduled_at) == ("todo", 1, email.next_attempt_at)
    assert "Try again later" in job.last_error

    # Due again, and the server takes it now: the job sends it.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE id = %s", [job.pk])
    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        assert run_jobs() == 1
    assert len(mail.outbox) == 1
    assert _mail_jobs()[0].status == "succeeded"
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 2


def test_a_job_finding_its_message_sent_by_the_sweep_sends_nothing_again(run_jobs):
    with through_outbox("django.core.mail.backends.locmem.EmailBackend"):
        send_mail("Payment sent", "₹5,000 sent.", None, ["asha@example.in"])
        call_command("send_queued_mail")
        assert len(mail.outbox) == 1
        run_jobs()
    assert len(mail.outbox) == 1
    assert _mail_jobs()[0].status == "succeeded"
