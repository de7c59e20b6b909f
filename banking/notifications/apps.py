from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "banking.notifications"
    label = "notifications"
    verbose_name = "Notifications"
