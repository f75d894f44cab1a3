from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "xueji.changes"
    label = "changes"
    verbose_name = "学籍异动"

    def ready(self) -> None:
        from xueji.changes.services import FLOW_KIND, ChangeFlowHandler, changes_apply_due
        from xueji.core import periodic
        from xueji.workflow import handlers

        handlers.register(FLOW_KIND, ChangeFlowHandler())
        periodic.register("changes.apply_due", 300, changes_apply_due)
