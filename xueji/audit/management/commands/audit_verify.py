import time

from django.core.management.base import BaseCommand, CommandError

from xueji.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    # System checks import every URLconf and API module first (~80 MB, 0.5–1.5 s) for nothing
    # verification needs; `manage.py check` runs them anyway.
    requires_system_checks: list[str] = []
    help = "Verify the whole audit hash chain; print the chain head to keep outside the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            default="",
            help="A head hash kept outside the database earlier; verification fails if the "
            "chain no longer contains it at the recorded position (format SEQ:HASH).",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        report = audit_chain_verify()
        elapsed = time.perf_counter() - started
        if not report.ok:
            raise CommandError(
                f"审计链校验失败 / audit chain broken: first bad event seq={report.first_bad_seq}"
                f" id={report.first_bad_id}: {report.problem}"
                f" (checked {report.checked} good events before it)"
            )
        expect = options["expect_head"]
        if expect:
            self._check_expected_head(expect)
        self.stdout.write(
            f"审计链完好 / audit chain OK: {report.checked} events in {elapsed:.2f}s\n"
            f"chain head: {report.head_seq}:{report.head_hash}"
        )

    def _check_expected_head(self, expect: str) -> None:
        from xueji.audit.models import AuditEvent

        try:
            seq_text, digest = expect.split(":", 1)
            seq = int(seq_text)
        except ValueError as exc:
            raise CommandError("--expect-head must look like SEQ:HASH") from exc
        if not AuditEvent.objects.filter(seq=seq, hash=digest).exists():
            raise CommandError(
                f"审计链校验失败 / audit chain broken: the head kept outside ({seq}) is not in"
                " the chain any more — the chain was rewritten."
            )
