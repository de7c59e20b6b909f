"""Sending the outbox.

- `deliver(ids)` runs after the transaction that queued the messages commits and
  tries each one once.
- `send_queued_mail()` retries every queued message whose next attempt is due.

Each attempt locks its row with SKIP LOCKED and checks it is still unsent, so two
runs (or a run and a request's own attempt) never send one message twice; the lock
is held while the mail server takes the message. A failure is recorded on the row
(attempts, last error, next attempt after a doubling wait) and is never raised:
the caller's work has already committed.
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


def deliver(ids, *, now=None):
    """Try each queued message in `ids` once; return how many were sent."""
    return sum(_attempt(pk, now=now) for pk in ids)


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
    email = OutboundEmail.objects.queued().select_for_update(skip_locked=True).filter(pk=pk).first()
    if email is None:
        return False  # already sent, or being sent by another run right now
    try:
        _backend(email.mailer).send_messages([_message(email)])
    except Exception as error:
        logger.warning("Could not send email %s (attempt %s): %s", email.pk, email.attempts + 1, error)
        email.mark_failed(error, now=now)
        return False
    email.mark_sent(now=now)
    return True


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
