"""Sending the outbox.

- Every queued message has a background job (`tasks.send_email`, deferred in the
  transaction that queued it), which calls `send_email` once that transaction has
  committed; a refusal is retried by the job at the row's next attempt.
- `send_queued_mail()` is the sweep: it tries every queued message whose next attempt
  is due, whether or not its job is still retrying (a job that gave up, or a message
  queued while no worker ran). It runs every 15 minutes, and as a command.

Each attempt locks its row with SKIP LOCKED and checks it is still unsent, so two
runs (a job and the sweep, or two workers) never send one message twice; the lock
is held while the mail server takes the message. A failure is recorded on the row
(attempts, last error, next attempt after a doubling wait) in its own transaction:
the work that queued the message committed long before.
"""

import datetime
import logging

from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.db import transaction
from django.utils import timezone

from .models import OutboundEmail

logger = logging.getLogger(__name__)

# Sent messages are kept this long (what went to whom, and when), then removed.
KEEP_SENT = datetime.timedelta(days=30)


class NotSent(Exception):  # noqa: N818
    """The mail server refused a message; the refusal is recorded on its row."""

    def __init__(self, email):
        super().__init__(email.last_error)
        self.next_attempt_at = email.next_attempt_at


def send_email(*, email_id, now=None):
    """Try queued message `email_id` once. Returns True if it was sent now, False if
    there was nothing to send (sent already, or being sent by another run right
    now). Raises NotSent, after recording the failure, if the server refused it."""
    sent, refused = _attempt(email_id, now=now)
    if refused is not None:
        raise NotSent(refused)
    return sent


def deliver(ids, *, now=None):
    """Try each queued message in `ids` once; return how many were sent."""
    return sum(_attempt(pk, now=now)[0] for pk in ids)


def send_queued_mail(*, limit=500, now=None):
    """Retry the queued messages that are due, oldest first; return (sent, still queued).

    Also removes sent messages older than KEEP_SENT."""
    now = now or timezone.now()
    ids = list(OutboundEmail.objects.due(now).order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
    sent = deliver(ids, now=now)
    OutboundEmail.objects.filter(sent_at__lt=now - KEEP_SENT).delete()
    return sent, len(ids) - sent


@transaction.atomic
def _attempt(pk, *, now=None):
    """(sent, the refused message or None)."""
    email = OutboundEmail.objects.queued().select_for_update(skip_locked=True).filter(pk=pk).first()
    if email is None:
        return False, None  # already sent, or being sent by another run right now
    try:
        _backend(email.mailer).send_messages([_message(email)])
    except Exception as error:
        logger.warning("Could not send email %s (attempt %s): %s", email.pk, email.attempts + 1, error)
        email.mark_failed(error, now=now)
        return False, email
    email.mark_sent(now=now)
    return True, None


def _backend(alias):
    mailer = mailers[alias]
    # Under Django's test runner every mailer is replaced by the in-memory one; a
    # mailer that is not an outbox sends directly.
    return mailer.delivery_backend() if hasattr(mailer, "delivery_backend") else mailer


def _message(email):
    options = {"from_email": email.from_email, "to": email.to, "cc": email.cc, "bcc": email.bcc,
               "reply_to": email.reply_to, "headers": email.headers}
    if email.html_body:
        message = EmailMultiAlternatives(email.subject, email.body, **options)
        message.attach_alternative(email.html_body, "text/html")
    else:
        message = EmailMessage(email.subject, email.body, **options)
    message.content_subtype = email.content_subtype
    return message
