"""The email backend every environment's mailers go through.

    MAILERS = {"default": {
        "BACKEND": "banking.notifications.backends.OutboxBackend",
        "OPTIONS": {"deliver_with": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                     "OPTIONS": {"host": ..., "port": ...}}},
    }}

Sending a message stores it in the outbox and defers a background job to send it,
both in the current transaction, and returns at once. Once that transaction commits,
a worker hands the message to the `deliver_with` backend. A mail server that refuses
or is not there leaves the message queued, retried by its job and by the
`send_queued_mail` sweep: no request fails because mail could not go out, and a
change that rolls back sends nothing.
"""

from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils.module_loading import import_string

from .models import OutboundEmail

SMTP = {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}


class OutboxBackend(BaseEmailBackend):
    def __init__(self, *args, deliver_with=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.deliver_with = deliver_with or SMTP

    def delivery_backend(self):
        """The backend that really sends: SMTP in production, the console locally."""
        return import_string(self.deliver_with["BACKEND"])(alias=self.alias, **self.deliver_with.get("OPTIONS", {}))

    def send_messages(self, email_messages):
        from .tasks import defer_sending

        queued = 0
        for message in email_messages:
            if not message.recipients():
                continue
            message.message()  # refuses bad headers now, as every backend does, not at delivery
            with transaction.atomic():
                defer_sending(store(message, mailer=self.alias or "default"))
            queued += 1
        return queued


def store(message, *, mailer):
    if message.attachments:
        raise ValueError("The outbox does not carry attachments; link to the document instead.")
    html = [content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"]
    return OutboundEmail.objects.create(
        mailer=mailer, from_email=message.from_email, to=list(message.to), cc=list(message.cc),
        bcc=list(message.bcc), reply_to=list(message.reply_to), headers=dict(message.extra_headers),
        subject=str(message.subject), body=message.body or "", content_subtype=message.content_subtype,
        html_body=html[0] if html else "",
    )
