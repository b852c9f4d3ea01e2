"""Logs: one line per request, and the process's logging set-up.

`LOG_FORMAT=json` writes every record (the router's, uvicorn's) as one JSON
object per line; `text` (the default) as readable `key=value` pairs. The
request line is built from the request-log row: its id, the key's display
prefix, model, provider, status, latency, tokens and cost; never a full key
and, unless `LOG_PROMPTS=true`, never prompt text.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from model_router.db.records import RequestRecord
from model_router.jsonutil import dumps

REQUEST_LOGGER = "model_router.requests"
FIELDS = "fields"  # the LogRecord attribute that holds a record's structured fields
_NEEDS_QUOTES = re.compile(r'[\s"=]')
Row = RequestRecord


def _fields(record: logging.LogRecord) -> dict[str, Any] | None:
    fields = record.__dict__.get(FIELDS)
    return fields if isinstance(fields, dict) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if fields := _fields(record):
            out.update(fields)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return dumps(out).decode()


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value ...`, for people."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if fields := _fields(record):
            line += " " + " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        return line


def _text(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value)
    # Quoted when it would not read as one token (spaces, quotes, empty).
    if not text or _NEEDS_QUOTES.search(text):
        return dumps(text).decode()
    return text


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the router and uvicorn (serve passes it on)."""
    formatter = "json" if log_format == "json" else "text"
    handler = {
        "class": "logging.StreamHandler",
        "formatter": formatter,
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # By name, not class: uvicorn pickles this for each worker, and a name costs
        # the worker no imports before it can answer the supervisor's health check.
        "formatters": {
            "json": {"()": f"{__name__}.JsonFormatter"},
            "text": {"()": f"{__name__}.TextFormatter"},
        },
        "handlers": {"default": handler},
        "loggers": {
            "": {"handlers": ["default"], "level": level.upper()},
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level.upper(), "propagate": True},
        },
    }


class RequestLogLine:
    """The request-log listener that writes one log line per finished call."""

    def __init__(self, key_prefixes: dict[uuid.UUID, str], *, log_prompts: bool) -> None:
        self._log = logging.getLogger(REQUEST_LOGGER)
        self._prefixes = key_prefixes
        self._log_prompts = log_prompts

    def __call__(self, row: Row) -> None:
        if not self._log.isEnabledFor(logging.INFO):
            return
        cost = row.total_cost_usd
        fields: dict[str, Any] = {
            "request_id": str(row.id),
            "key": self._prefixes.get(row.user_id, "unknown") if row.user_id else "unknown",
            "model": row.model,
            "provider": row.provider,
            "status": row.status,
            "http_status": row.http_status,
            "latency_ms": row.latency_ms,
            "ttft_ms": row.ttft_ms,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cost_usd": None if cost is None else str(cost),
            "stream": row.is_stream,
        }
        if row.cache_status:
            fields["cache"] = row.cache_status
        if attempts := row.attempts:
            fields["attempts"] = len(attempts)
        if row.error_message:
            fields["error"] = row.error_message
        if self._log_prompts:
            fields["prompt"] = row.prompt_text or ""
        # A record made directly: no caller lookup on the request path.
        record = self._log.makeRecord(
            REQUEST_LOGGER, logging.INFO, __file__, 0, "request", (), None
        )
        record.__dict__[FIELDS] = fields
        self._log.handle(record)
