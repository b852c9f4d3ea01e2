"""Which errors are retried, backoff bounds, retry-after."""

from __future__ import annotations

import random

import pytest

from model_router.errors import InvalidRequest, ProviderNotConfigured, UpstreamError
from model_router.providers.http import error_from_response, malformed, transport_error
from model_router.routing.retry import RetryPolicy, retry_after, verdict


def _upstream(status: int, headers: dict[str, str] | None = None) -> UpstreamError:
    return error_from_response("openai", status, headers or {}, b"{}", lambda d: (None,) * 4)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(status: int) -> None:
    assert verdict(_upstream(status)) == "retry"


@pytest.mark.parametrize("status", [400, 402, 413, 415, 422])
def test_other_client_errors_stop(status: int) -> None:
    assert verdict(_upstream(status)) == "stop"


@pytest.mark.parametrize("status", [401, 403, 404])
def test_deployment_specific_refusals_move_on_without_a_retry(status: int) -> None:
    assert verdict(_upstream(status)) == "next"


def test_transport_failures_are_retried() -> None:
    assert verdict(transport_error("openai", TimeoutError())) == "retry"
    assert verdict(transport_error("openai", ConnectionResetError())) == "retry"
    assert verdict(malformed("openai", "the stream ended before it finished")) == "retry"


def test_our_own_errors_are_not_retried() -> None:
    assert verdict(InvalidRequest("bad")) == "stop"
    assert verdict(ProviderNotConfigured("openai", "OPENAI_API_KEY")) == "next"


@pytest.mark.parametrize("retry", range(8))
def test_backoff_stays_between_half_and_all_of_the_capped_exponential(retry: int) -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=8.0)
    rng = random.Random(retry)
    ceiling = min(8.0, 0.5 * 2**retry)
    waits = [policy.backoff(retry, rng) for _ in range(500)]
    assert all(ceiling / 2 <= w <= ceiling for w in waits)
    assert max(waits) - min(waits) > ceiling / 4  # jittered, not fixed


def test_retry_after_is_read_in_seconds() -> None:
    assert retry_after(_upstream(429, {"retry-after": "7"})) == 7.0
    assert retry_after(_upstream(503, {"retry-after": "0.25"})) == 0.25
    assert retry_after(_upstream(429, {"retry-after-ms": "1500"})) == 2.0  # rounded up to s
    assert retry_after(_upstream(429, {"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"})) is None
    assert retry_after(_upstream(500)) is None
