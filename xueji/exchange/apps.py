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

        from xueji.exchange.imports.planfile import plans_discard_stale

        # Plans of freshman dry runs that were never confirmed (the commit can do without).
        register("imports.discard_stale_plans", 3600, plans_discard_stale)

        from xueji.exchange.imports import runner as imports_runner
        from xueji.jobs.registry import register as register_job

        register_job(imports_runner.DRY_RUN, imports_runner.run_dry_run)
        register_job(imports_runner.COMMIT, imports_runner.run_commit)

        from xueji.exchange.imports.kinds import register_builtin_kinds

        # The import kinds (pages and API are generic over them) and their job runners.
        register_builtin_kinds()

        from xueji.exchange.chsi import kinds as chsi_kinds
        from xueji.exchange.chsi import new_students as chsi_new_students

        # Registering a CHSI export kind also registers its job runner (`chsi.<key>`).
        chsi_kinds.register(chsi_new_students.KIND)

        from xueji.exchange.chsi import degrees as chsi_degrees
        from xueji.exchange.chsi import diplomas as chsi_diplomas

        chsi_kinds.register(chsi_diplomas.KIND)
        chsi_kinds.register(chsi_degrees.KIND)

        from xueji.exchange.crosscheck.jobs import register_job_kinds as register_crosscheck

        register_crosscheck()
