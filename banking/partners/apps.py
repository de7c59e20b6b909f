from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "banking.partners"
    label = "partners"
    verbose_name = "Partners"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401 - payment events become webhook events
