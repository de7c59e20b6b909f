from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "banking.idempotency"
    label = "idempotency"
    verbose_name = "Idempotent API requests"
