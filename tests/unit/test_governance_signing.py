"""Webhook signatures: HMAC-SHA256 over "timestamp.body"; stale or altered
deliveries do not verify."""

from __future__ import annotations

import hashlib
import hmac

from model_router.services.webhooks.dispatcher import Policy
from model_router.services.webhooks.signing import headers, sign, verify

SECRET = "whsec_unit_0123456789"
BODY = b'{"id":"e1","type":"key.created","data":{}}'


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, BODY) == f"v1={expected}"


def test_verify_refuses_altered_bodies_old_timestamps_and_other_secrets() -> None:
    signature = sign(SECRET, 1_700_000_000, BODY)
    assert verify(SECRET, "1700000000", BODY, signature, now=1_700_000_100)
    assert not verify(SECRET, "1700000000", BODY + b" ", signature, now=1_700_000_100)
    assert not verify(SECRET, "1700000000", BODY, signature, now=1_700_001_000)
    assert not verify("whsec_other_0123456789", "1700000000", BODY, signature, now=1_700_000_000)
    assert not verify(SECRET, "soon", BODY, signature, now=1_700_000_000)


def test_headers_carry_timestamp_signature_and_ids() -> None:
    sent = headers(SECRET, 1_700_000_000, BODY, "key.created", "e1", "d1")
    assert sent["x-router-timestamp"] == "1700000000"
    assert sent["x-router-signature"] == sign(SECRET, 1_700_000_000, BODY)
    assert (sent["x-router-event"], sent["x-router-event-id"], sent["x-router-delivery"]) == (
        "key.created",
        "e1",
        "d1",
    )


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = Policy(base_delay=2, max_delay=20)
    assert [policy.delay(n) for n in range(1, 7)] == [2, 4, 8, 16, 20, 20]
