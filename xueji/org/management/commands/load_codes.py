from django.core.management.base import BaseCommand

from xueji.core.context import Actor
from xueji.org.services import code_tables_load


class Command(BaseCommand):
    help = "Load the national and CHSI code tables shipped in xueji/org/data (idempotent)."

    def handle(self, *args, **options):
        loaded = code_tables_load(actor=Actor.system())
        if not loaded:
            self.stdout.write("代码表均为最新版本 / code tables are up to date")
        for table, rows in loaded.items():
            self.stdout.write(f"载入 / loaded {table}: {rows}")
