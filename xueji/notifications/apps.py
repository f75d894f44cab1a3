from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "xueji.notifications"
    label = "notifications"
    verbose_name = "通知"
