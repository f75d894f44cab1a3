"""The verification limit counts per IP in fixed windows of VERIFY_WINDOW seconds."""

from __future__ import annotations

import pytest

from xueji.certificates import ratelimit
from xueji.certificates.ratelimit import VERIFY_LIMIT, VERIFY_WINDOW, verify_over_limit

pytestmark = pytest.mark.django_db


def test_the_limit_holds_within_a_window_and_a_new_window_starts_afresh(monkeypatch) -> None:
    # A clock a little ahead of the real one (the cache computes expiry times with it too),
    # 5 seconds into a window.
    real = ratelimit.time.time()
    now = [(real // VERIFY_WINDOW + 1) * VERIFY_WINDOW + 5.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert not any(verify_over_limit("198.51.100.7") for _ in range(VERIFY_LIMIT))
    assert verify_over_limit("198.51.100.7")
    assert not verify_over_limit("198.51.100.8")  # another IP has its own count
    now[0] += VERIFY_WINDOW - 10  # still the same window, however slowly the requests come
    assert verify_over_limit("198.51.100.7")
    now[0] += 10  # the next window
    assert not verify_over_limit("198.51.100.7")


def test_an_ipv6_client_is_counted_by_its_64_and_ipv4_by_its_address() -> None:
    assert ratelimit.client_key("2001:db8:1:2:aaaa::1") == ratelimit.client_key(
        "2001:db8:1:2:bbbb::9"
    )
    assert ratelimit.client_key("2001:db8:1:2::1") != ratelimit.client_key("2001:db8:1:3::1")
    assert ratelimit.client_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert ratelimit.client_key("198.51.100.7") == "198.51.100.7"
