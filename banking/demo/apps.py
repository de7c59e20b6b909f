from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "banking.demo"
    label = "demo"
    verbose_name = "Demo bank"
