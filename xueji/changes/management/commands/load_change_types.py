from django.core.management.base import BaseCommand

from xueji.changes.catalogue import change_types_install_defaults
from xueji.core.context import Actor


class Command(BaseCommand):
    help = (
        "Install the built-in change types (学籍异动类型) that are missing and the rule "
        "parameters row. Idempotent: types that exist, edited or not, are left as they are."
    )

    def handle(self, *args, **options):
        created = change_types_install_defaults(actor=Actor.system())
        if created:
            self.stdout.write(f"新建内置异动类型 {created} 个 / installed {created} change types")
        else:
            self.stdout.write("内置异动类型均已存在 / all built-in change types exist")
