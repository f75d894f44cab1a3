from django.core.management.base import BaseCommand, CommandError

from xueji.core.exceptions import DomainError
from xueji.dashboard.demo import DEPARTMENT_ACCOUNTS, workflow_demo_seed
from xueji.students.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Build a demo school (colleges, majors, classes, N students) and the demo accounts. "
        "Does nothing when demo data is already present or the database holds its own data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=2000, help="number of students")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (repeatable)")
        parser.add_argument(
            "--intake-year",
            type=int,
            default=None,
            help="newest cohort (default: this year's intake once September has come)",
        )

    def handle(self, *args, **options):
        progress = self.stdout.write if options["verbosity"] > 1 else None
        try:
            report = demo_seed(
                students=options["students"],
                seed=options["seed"],
                intake_year=options["intake_year"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(report.message)
        for line in workflow_demo_seed(seed=options["seed"]):
            self.stdout.write(line)
        if not report.created:
            return
        counts = report.counts
        self.stdout.write(
            f"{counts['colleges']} colleges, {counts['majors']} majors,"
            f" {counts['classes']} classes, {counts['students']} students"
            f" ({counts['suspended']} 休学, {counts['reserved']} 保留学籍)"
        )
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for username, name in report.accounts:
            self.stdout.write(f"  {username:<14} {name}")
        for username, name, _code in DEPARTMENT_ACCOUNTS:
            self.stdout.write(f"  {username:<14} {name}")
