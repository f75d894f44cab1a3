from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The top of the dependency graph: home-page panels that read from several apps."""

    name = "xueji.dashboard"
    label = "dashboard"
    verbose_name = "首页面板"

    def ready(self) -> None:
        from xueji.core import home
        from xueji.dashboard import panels

        home.register("workbench", panels.workbench_panel, order=10)
        home.register("my_changes", panels.my_changes_panel, order=20)
        home.register("registration", panels.registration_panel, order=30)
        home.register("departments", panels.departments_panel, order=40)
