from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "xueji.changes"
    label = "changes"
    verbose_name = "学籍异动"

    def ready(self) -> None:
        from xueji.changes.corrections import CORRECTION_FLOW_KIND, CorrectionFlowHandler
        from xueji.changes.services import (
            FLOW_KIND,
            ChangeFlowHandler,
            changes_apply_due,
            changes_remind_ending,
        )
        from xueji.core import periodic
        from xueji.workflow import handlers

        handlers.register(FLOW_KIND, ChangeFlowHandler())
        # Data-correction requests (students.CorrectionRequest) are approved on the engine too.
        handlers.register(CORRECTION_FLOW_KIND, CorrectionFlowHandler())
        periodic.register("changes.apply_due", 300, changes_apply_due)
        periodic.register("changes.remind_ending", 3600, changes_remind_ending)

        from xueji.changes.chsi import KIND as CHSI_STATUS_CHANGES
        from xueji.exchange.chsi.kinds import register as register_chsi_kind

        register_chsi_kind(CHSI_STATUS_CHANGES)
