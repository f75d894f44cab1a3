"""The public verification's limit: at most VERIFY_LIMIT requests per client IP in VERIFY_WINDOW
seconds, counted in the shared cache (a database table or Redis, see config/settings.py), so
every server process counts together. The page and the API share one count."""

from __future__ import annotations

import ipaddress
import time

from django.core.cache import cache

VERIFY_LIMIT = 30
VERIFY_WINDOW = 600
# An uploaded PDF larger than this is not one of ours.
MAX_UPLOAD = 20 * 1024 * 1024


def client_key(ip: str) -> str:
    """Whom to count: an IPv4 address, or an IPv6 client's /64 (one household or host gets a
    whole /64 and could otherwise take a fresh address for every request)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def verify_over_limit(ip: str) -> bool:
    """Count one verification request from `ip`; True once it is over the limit.

    Fixed windows, one key each: the database cache's `incr` rewrites a key with the default
    timeout, which would turn "30 per 10 minutes" into "30 without a 5-minute pause". Reading
    and writing is not atomic; requests running at the same moment may count as one, which a
    limit against scraping can afford."""
    now = int(time.time())
    window = now // VERIFY_WINDOW
    key = f"certificates:verify:{client_key(ip)}:{window}"
    count = (cache.get(key) or 0) + 1
    cache.set(key, count, (window + 1) * VERIFY_WINDOW - now)
    return count > VERIFY_LIMIT
