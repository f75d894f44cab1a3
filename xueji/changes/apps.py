from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "xueji.changes"
    label = "changes"
    verbose_name = "学籍异动"
