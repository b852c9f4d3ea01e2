"""Signatures: `x-router-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.

The timestamp (unix seconds, `x-router-timestamp`) is that of the attempt and
is inside the signed text, so a receiver can refuse old or replayed
deliveries; `x-router-event-id` stays the same across retries and redeliveries,
so a receiver can also drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    text = str(timestamp).encode() + b"." + body
    return f"{SCHEME}={hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does: a fresh timestamp and a matching signature."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def headers(
    secret: str, timestamp: int, body: bytes, event_type: str, event_id: str, delivery_id: str
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "model-router-webhooks/1",
        "x-router-event": event_type,
        "x-router-event-id": event_id,
        "x-router-delivery": delivery_id,
        "x-router-timestamp": str(timestamp),
        "x-router-signature": sign(secret, timestamp, body),
    }
