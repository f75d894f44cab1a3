"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the department's secret.

The receiver recomputes the signature from the raw body and the X-Xueji-Timestamp header and
compares in constant time; the timestamp in the signed text stops a captured request from being
replayed later with a new timestamp.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Xueji-Signature"
TIMESTAMP_HEADER = "X-Xueji-Timestamp"
EVENT_ID_HEADER = "X-Xueji-Event-Id"
DELIVERY_ID_HEADER = "X-Xueji-Delivery-Id"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value: "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}.{body}")."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def signature_valid(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), header or "")
