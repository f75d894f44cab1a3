from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "xueji.exchange"
    label = "exchange"
    verbose_name = "数据交换"

    def ready(self) -> None:
        from xueji.core.periodic import register
        from xueji.exchange.services import deliveries_sweep

        # Catches deliveries whose task was lost (queue down, worker restarted mid-call).
        register("exchange.deliveries_sweep", 60, deliveries_sweep)

        from xueji.exchange.imports import runner as imports_runner
        from xueji.jobs.registry import register as register_job

        register_job(imports_runner.DRY_RUN, imports_runner.run_dry_run)
        register_job(imports_runner.COMMIT, imports_runner.run_commit)

        from xueji.exchange.chsi.services import KIND_NEW_STUDENTS, run_new_students
        from xueji.jobs.registry import register as register_job

        register_job(KIND_NEW_STUDENTS, run_new_students)

        from xueji.exchange.crosscheck.jobs import register_job_kinds as register_crosscheck

        register_crosscheck()
