from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "banking.users"
    label = "users"
    verbose_name = "People and branches"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .roles import sync_roles_after_every_app

        # The roles include permissions of every app: they are synced once, when the
        # signal reaches the last app (migrate, and the flush of every transactional test).
        post_migrate.connect(sync_roles_after_every_app, dispatch_uid="cbs_sync_roles")

        from . import signals  # noqa: F401 the guard on role combinations, the superuser sign-in audit
