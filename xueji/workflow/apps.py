from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "xueji.workflow"
    label = "workflow"
    verbose_name = "审批流程"
