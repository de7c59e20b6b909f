from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "banking.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from django.db.models.signals import post_migrate

        # The IFSC directory and the daily limits come with a data migration; a
        # database emptied by `flush` (as transactional tests do) gets them back here.
        post_migrate.connect(restore_reference_data, sender=self, dispatch_uid="cbs_payments_reference_data")
        from . import eod  # noqa: F401  registers the standing instructions' end-of-day step


def restore_reference_data(app_config, apps=None, **kwargs):
    from django.apps import apps as global_apps

    from .directory import seed_reference_data

    apps = apps or global_apps
    try:
        apps.get_model("payments", "ChannelLimit")
    except LookupError:
        return
    seed_reference_data(apps)
