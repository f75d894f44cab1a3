"""WSGI entry point for the benchmarks: config.wsgi, plus the bare view when asked for.

XUEJI_BENCH_BARE_VIEW=1 gunicorn bench.wsgi_bench:application
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if os.environ.get("XUEJI_BENCH_BARE_VIEW"):
    settings.ROOT_URLCONF = "bench.bare_urls"
application = get_wsgi_application()
