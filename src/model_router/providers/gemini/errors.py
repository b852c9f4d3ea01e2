"""Gemini's errors as the router's hierarchy: a bad key is a 401, a 429 passes
on RetryInfo's delay, an error inside a 200 body or a stream maps by its code."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from model_router.errors import UpstreamError
from model_router.providers.http import NO_HEADERS, ErrorFields, error_from_response

Json = dict[str, Any]


def parse_error(data: Any) -> ErrorFields:
    """(message, type, code, param): the code is ErrorInfo's reason, else the status."""
    error = data["error"]
    if isinstance(error, str):
        return error, None, None, None
    code = _detail(error, "ErrorInfo").get("reason") or error.get("status")
    return error.get("message"), None, str(code) if code else None, None


def retry_delay(data: Any) -> str | None:
    """RetryInfo's `retryDelay` ("7s", "0.5s") as whole seconds, rounded up."""
    try:
        delay = _detail(data["error"], "RetryInfo").get("retryDelay")
        seconds = float(str(delay).removesuffix("s"))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return str(max(1, math.ceil(seconds)))


def _detail(error: Json, kind: str) -> Json:
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(f".{kind}"):
            return detail
    return {}


def gemini_error(
    provider: str, status: int, headers: Mapping[str, str], raw: bytes
) -> UpstreamError:
    """An error response as our hierarchy: a bad key (400 API_KEY_INVALID) is a 401,
    and a 429 passes on RetryInfo's delay as retry-after."""
    try:
        data = orjson.loads(raw)
        reason = _detail(data["error"], "ErrorInfo").get("reason")
    except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
        data, reason = None, None
    mapped = 401 if reason == "API_KEY_INVALID" else status
    error = error_from_response(
        provider, mapped, headers, raw, parse_error, retry_after=retry_delay(data)
    )
    error.upstream_status = status
    return error


def embedded_error(provider: str, data: Json) -> UpstreamError:
    """A `{"error": {...}}` payload in a 200 body or mid-stream, mapped by its code."""
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and code >= 400 else 500
    return gemini_error(provider, status, NO_HEADERS, orjson.dumps(data))
