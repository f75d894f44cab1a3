"""The cache is shared by every server process: a count made in one process is seen by another.

The public verification page limits requests per IP with counters in the cache; with
`gunicorn -w 4` a per-process cache would make the limit four times looser and forget it on
restart. By default the cache is a table in the database; with XUEJI_CACHE_URL it is Redis.
"Another process" here is a real `manage.py shell` on the same test database (SQLite's test
database is a file) or the same Redis, so these tests commit: they use transactional
databases and delete their own cache keys.

Redis must be running (127.0.0.1:6379; XUEJI_TEST_CACHE_URL to point elsewhere). Without it
the Redis test fails, never skips.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django.urls import reverse

from xueji.certificates.ratelimit import VERIFY_LIMIT

CACHE_REDIS_URL = os.environ.get("XUEJI_TEST_CACHE_URL", "redis://127.0.0.1:6379/14")
PATIENCE = 120  # seconds: a safety net against a hung child, not a speed requirement


def database_url_for_tests() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or "postgres"
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def other_process(code: str, **env: str) -> str:
    """Run `code` in a fresh `manage.py shell` on the test database; return what it printed."""
    child_env = {**os.environ, "DATABASE_URL": database_url_for_tests()}
    child_env.pop("XUEJI_CACHE_URL", None)  # the default cache unless the test asks for Redis
    child_env.update(env)
    finished = subprocess.run(  # noqa: S603 (our own interpreter, manage.py and test code)
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=Path(settings.BASE_DIR),
        env=child_env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.strip()


@pytest.fixture
def key() -> Iterator[str]:
    name = f"test-cache:{uuid.uuid4().hex}"
    yield name
    caches["default"].delete(name)


@pytest.mark.django_db(transaction=True)
def test_a_count_made_in_one_process_is_seen_and_continued_by_another(key):
    assert isinstance(caches["default"], DatabaseCache)
    cache.add(key, 0, 600)
    for _ in range(3):
        cache.incr(key)

    printed = other_process(
        "from django.core.cache import cache, caches\n"
        f"print(type(caches['default']).__name__, cache.get({key!r}), cache.incr({key!r}))"
    )

    assert printed == "DatabaseCache 3 4"
    assert cache.get(key) == 4


@pytest.fixture
def cleared_cache() -> Iterator[None]:
    # The test database's cache table is not emptied by the flush after a transactional test
    # (it is no model's table); the counters this test leaves are removed here.
    yield
    caches["default"].clear()


@pytest.mark.django_db(transaction=True)
def test_the_verification_limit_counts_the_requests_served_by_every_process(cleared_cache):
    verify_ip = "203.0.113.77"  # TEST-NET-3: an address no real visitor has
    url = reverse("document-verify", args=["NOSUCHCODE"])
    client = Client()
    for _ in range(VERIFY_LIMIT):
        assert client.get(url, REMOTE_ADDR=verify_ip).status_code == 404

    # A second server process: the next request from that IP is refused there, while another
    # visitor is still served. (DEBUG only so that pages render without collected static files.)
    printed = other_process(
        "from django.test import Client\n"
        "client = Client(SERVER_NAME='127.0.0.1')\n"
        f"print(client.get({url!r}, REMOTE_ADDR={verify_ip!r}).status_code,"
        f" client.get({url!r}, REMOTE_ADDR='203.0.113.78').status_code)",
        XUEJI_DEBUG="1",
    )

    assert printed == "429 404"
    # And this process, which served the first requests, refuses the next one too.
    response = client.get(url, REMOTE_ADDR=verify_ip)
    assert response.status_code == 429
    assert response["Retry-After"]


def test_with_xueji_cache_url_every_process_counts_in_redis(settings, key):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
        }
    }
    assert isinstance(caches["default"], RedisCache)
    cache.set(key, 5, 600)

    printed = other_process(
        "from django.core.cache import cache, caches\n"
        f"print(type(caches['default']).__name__, cache.get({key!r}), cache.incr({key!r}))",
        XUEJI_CACHE_URL=CACHE_REDIS_URL,
    )

    assert printed == "RedisCache 5 6"
    assert cache.get(key) == 6


def cache_table_exists(path: Path) -> bool:
    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
            (settings.CACHE_TABLE,),
        ).fetchall()
    return bool(found)


def manage(*args: str, database: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("XUEJI_CACHE_URL", None)
    finished = subprocess.run(  # noqa: S603 (our own interpreter, manage.py and arguments)
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr


def test_migrate_creates_the_cache_table_on_a_fresh_database(tmp_path):
    database = tmp_path / "fresh.sqlite3"

    manage("migrate", "core", "--noinput", database=database)

    assert cache_table_exists(database)


def test_migrate_keeps_a_cache_table_made_earlier_by_createcachetable(tmp_path):
    database = tmp_path / "older.sqlite3"
    manage("createcachetable", database=database)
    assert cache_table_exists(database)

    manage("migrate", "core", "--noinput", database=database)

    assert cache_table_exists(database)
