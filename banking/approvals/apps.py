from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "banking.approvals"
    label = "approvals"
    verbose_name = "Maker-checker"

    def ready(self):
        from . import registry

        registry.autodiscover()
