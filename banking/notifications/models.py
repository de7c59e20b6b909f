"""The outbox: every email the bank sends, kept until the mail server has taken it.

A message is written in the same transaction as the work that asks for it, so a
change that rolls back sends nothing, and a mail server that is down loses nothing:
the message waits here with its last error and is tried again later
(`send_queued_mail`). Bodies carry password-reset and activation links, so they are
encrypted at rest like the bank's other secrets.
"""

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from banking.core.crypto import EncryptedTextField

# Waits between attempts: 1, 2, 4 ... minutes, never more than an hour.
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)


class OutboundEmailQuerySet(models.QuerySet):
    def queued(self):
        return self.filter(sent_at__isnull=True)

    def due(self, now=None):
        return self.queued().filter(next_attempt_at__lte=now or timezone.now())


class OutboundEmail(models.Model):
    mailer = models.CharField(max_length=100, default="default", help_text="The MAILERS alias it was sent through.")
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    reply_to = models.JSONField(default=list)
    headers = models.JSONField(default=dict)
    subject = models.TextField()
    body = EncryptedTextField(blank=True)
    # "plain", or "html" when the main body is HTML.
    content_subtype = models.CharField(max_length=20, default="plain")
    html_body = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(sent_at__isnull=True), name="outbound_email_due"),
        ]

    def __str__(self):
        return f"{self.subject} to {', '.join(self.to)}"

    def mark_sent(self, *, now=None):
        self.sent_at = now or timezone.now()
        self.attempts += 1
        self.last_error = ""
        self.save(update_fields=["sent_at", "attempts", "last_error"])

    mark_sent.alters_data = True

    def mark_failed(self, error, *, now=None):
        """Record the failure and put the next attempt off, twice as long each time."""
        now = now or timezone.now()
        self.attempts += 1
        self.last_error = f"{type(error).__name__}: {error}"[:2000]
        self.next_attempt_at = now + min(FIRST_RETRY * 2 ** min(self.attempts - 1, 10), LONGEST_RETRY)
        self.save(update_fields=["attempts", "last_error", "next_attempt_at"])

    mark_failed.alters_data = True
