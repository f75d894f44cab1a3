from django.apps import AppConfig


class StudentsConfig(AppConfig):
    name = "xueji.students"
    label = "students"
    verbose_name = "学生学籍"

    def ready(self) -> None:
        from xueji.students.services import CORRECTION_FLOW_KIND, CorrectionFlowHandler
        from xueji.workflow.handlers import register

        # Data-correction requests are approved through the generic engine.
        register(CORRECTION_FLOW_KIND, CorrectionFlowHandler())
