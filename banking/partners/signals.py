"""Payment steps become partner events: a PaymentEvent is written in the transaction of
every change of a payment's status (Payment.move_to), so listening to it here leaves
the payment module unaware of partners."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from banking.payments.models import PaymentEvent


@receiver(post_save, sender=PaymentEvent, dispatch_uid="partners-follow-payment")
def follow_payment_event(sender, instance, created, raw=False, **kwargs):
    if not created or raw or instance.status not in ("settled", "returned", "failed", "sent", "reversed"):
        return
    from .actions import follow_payment

    follow_payment(instance.payment, instance.status)
