"""The table of Django's database cache (settings.CACHES, the default when XUEJI_CACHE_URL is
unset), created wherever `migrate` runs so that a fresh install needs no extra step.

The name is fixed here rather than read from the CACHES setting: a site that starts on Redis
and later drops XUEJI_CACHE_URL still finds its table. `createcachetable` leaves an existing
table alone, so databases that already have one migrate cleanly.
"""

from django.core.management import call_command
from django.db import migrations

CACHE_TABLE = "xueji_cache"


def create_cache_table(apps, schema_editor) -> None:
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_cache_table(apps, schema_editor) -> None:
    quoted = schema_editor.quote_name(CACHE_TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {quoted}")


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
