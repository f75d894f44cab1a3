from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "xueji.certificates"
    label = "certificates"
    verbose_name = "证明文书"

    def ready(self) -> None:
        from xueji.certificates import approvals, batches, signing  # noqa: F401 (signing: check)
        from xueji.jobs.registry import register as register_job
        from xueji.workflow.handlers import register as register_flow

        register_flow(approvals.FLOW_KIND, approvals.CertificateFlowHandler())
        register_job(batches.JOB_KIND, batches.run_batch)
