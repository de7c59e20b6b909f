from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "banking.users"
    label = "users"
    verbose_name = "People and branches"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_roles

        # Every app: the roles include permissions of apps migrated after this one.
        post_migrate.connect(sync_roles, dispatch_uid="cbs_sync_roles")

        from . import signals  # noqa: F401 the guard on role combinations, the superuser sign-in audit
