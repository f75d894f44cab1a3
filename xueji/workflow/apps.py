from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "xueji.workflow"
    label = "workflow"
    verbose_name = "审批流程"

    def ready(self) -> None:
        from xueji.core.periodic import register
        from xueji.workflow.services import flow_remind_overdue

        # Overdue steps: reminders at most once a day per step (the job itself runs hourly).
        register("workflow.remind_overdue", 3600, flow_remind_overdue)
