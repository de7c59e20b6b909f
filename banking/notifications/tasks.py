"""Mail through the queue (banking.core.jobs).

Each message in the outbox has a `send_email` job, deferred in the transaction that
queued the message. A refusal is recorded on the message and the job is tried again
at the message's next attempt (1, 2, 4 ... minutes, at most an hour apart), eight
runs in all; after that the sweep keeps trying, and operations see the failed job.
"""

from banking.core import jobs

from .actions import NotSent, send_queued_mail
from .actions import send_email as send_email_action


@jobs.task(name="notifications.send_email", queue="mail", retry=jobs.backoff(attempts=8, first=60, longest=3600))
def send_email(*, email_id):
    try:
        return send_email_action(email_id=email_id)
    except NotSent as refused:
        raise jobs.RetryLater(f"The mail server did not take it: {refused}", at=refused.next_attempt_at) from None


def defer_sending(email):
    """Queue the job that sends `email` (an OutboundEmail just stored), in the
    current transaction."""
    return jobs.defer(send_email, email_id=email.pk)


@jobs.periodic(cron="*/15 * * * *", name="notifications.sweep")
def sweep_outbox(*, timestamp):
    """Try again the queued emails that are due (as `send_queued_mail`)."""
    sent, _queued = send_queued_mail()
    return sent
