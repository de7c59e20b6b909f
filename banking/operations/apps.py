from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "banking.operations"
    label = "operations"
    verbose_name = "End of day"

    def ready(self):
        from . import eod, tasks  # noqa: F401 the controller's own steps; its jobs
