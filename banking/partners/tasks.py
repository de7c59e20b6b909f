"""The partners' background work (banking.core.jobs): webhook deliveries and payout
batches."""

from banking.core import jobs

from .actions import DeliveryFailed, deliver_webhook, pay_payout_batch

# The 24-hour window in `deliver_webhook` ends the retries; `attempts` is only a ceiling.
WEBHOOK_RETRY = jobs.backoff(attempts=60, first=30, longest=3600)


@jobs.task(name="partners.deliver_webhook", retry=WEBHOOK_RETRY)
def deliver_webhook_job(*, delivery_id):
    try:
        return deliver_webhook(delivery_id=delivery_id)
    except DeliveryFailed as failed:
        raise jobs.RetryLater(str(failed), at=failed.next_attempt_at) from None


@jobs.task(name="partners.pay_payout_batch")
def pay_payout_batch_job(*, batch_id):
    return pay_payout_batch(batch_id=batch_id)
