from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "banking.core"
    label = "core"
    verbose_name = "Core"
