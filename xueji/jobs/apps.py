from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "xueji.jobs"
    label = "jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        from xueji.core import periodic
        from xueji.jobs import registry, selftest
        from xueji.jobs.services import jobs_mark_stale

        periodic.register("jobs.mark_stale", 120, jobs_mark_stale)
        registry.register(selftest.KIND, selftest.run_selftest)
