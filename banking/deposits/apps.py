from django.apps import AppConfig


class DepositsConfig(AppConfig):
    name = "banking.deposits"
    label = "deposits"
    verbose_name = "Deposit accounts"

    def ready(self):
        from django.db.models.signals import post_migrate

        # The standard products come with migration 0002; a database emptied by
        # `flush` (as transactional tests do) gets them back here.
        post_migrate.connect(restore_standard_products, sender=self, dispatch_uid="cbs_deposit_products")


def restore_standard_products(app_config, apps=None, **kwargs):
    from importlib import import_module

    from django.apps import apps as global_apps

    apps = apps or global_apps
    try:
        apps.get_model("deposits", "RateSlab")
    except LookupError:  # a partial migrate that has not reached deposits yet
        return
    import_module("banking.deposits.migrations.0002_standard_products").create_products(apps, None)
