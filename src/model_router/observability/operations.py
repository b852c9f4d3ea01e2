"""Operations: built in the lifespan, its listeners hang on the request log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from prometheus_client import values

from model_router.db.records import RequestRecord
from model_router.domain.keys import KeyInfo
from model_router.observability.logs import RequestLogLine
from model_router.observability.metrics import Metrics
from model_router.settings import Settings

if TYPE_CHECKING:
    from model_router.observability.tracing import Tracing
    from model_router.providers.base import Provider

log = logging.getLogger(__name__)


class RowFeed(Protocol):
    """What operations needs of the request log (`services.request_log.RequestLog`):
    a hook on every finished row, and the depth of its queue."""

    listeners: list[Callable[[RequestRecord], None]]

    @property
    def depth(self) -> int: ...


def multiprocess_dir(settings: Settings) -> str | None:
    """The shared metrics directory, if prometheus-client runs in multi-process mode
    (it decides when it is imported, from PROMETHEUS_MULTIPROC_DIR)."""
    directory = settings.prometheus_multiproc_dir
    if directory is None:
        return None
    if values.ValueClass is values.MutexValue:
        log.warning(
            "PROMETHEUS_MULTIPROC_DIR is set only in .env; metrics stay per process "
            "(export it in the environment, or let `model-router serve` set it)"
        )
        return None
    return str(directory)


class Operations:
    """Metrics, the request log line, tracing (if configured) and the draining flag."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics(multiprocess_dir(settings))
        self.tracing: Tracing | None = None
        if settings.otel_exporter_otlp_endpoint:
            from model_router.observability.tracing import Tracing

            self.tracing = Tracing(
                settings.otel_exporter_otlp_endpoint,
                service_name=settings.otel_service_name,
                headers=settings.otel_exporter_otlp_headers,
                schedule_delay_ms=settings.otel_bsp_schedule_delay,
            )
        self.draining = False
        self._depth_task: asyncio.Task[None] | None = None

    def begin_drain(self) -> None:
        """SIGTERM/SIGINT: `/ready` answers 503 from now on."""
        self.draining = True

    def saw_key(self, key: KeyInfo) -> None:
        """The route tells us each caller's display prefix (rows carry only its id)."""
        self.metrics.key_prefixes[key.id] = key.prefix

    def provider_wrapper(self) -> Callable[[Provider], Provider] | None:
        return self.tracing.wrap if self.tracing is not None else None

    def attach(self, request_log: RowFeed) -> None:
        request_log.listeners.append(self.metrics.observe)
        if self.settings.log_requests:
            line = RequestLogLine(self.metrics.key_prefixes, log_prompts=self.settings.log_prompts)
            request_log.listeners.append(line)
        if self.tracing is not None:
            tracing, prefixes = self.tracing, self.metrics.key_prefixes
            request_log.listeners.append(
                lambda row: tracing.on_row(row, prefixes.get(row.user_id) if row.user_id else None)
            )
        self.metrics.watch_queue(lambda: request_log.depth)
        if self.metrics.multiproc_dir is not None:
            # Other workers answer scrapes too: publish this one's depth every second.
            self._depth_task = asyncio.create_task(self._publish_depth(), name="metrics-depth")

    async def _publish_depth(self) -> None:
        while True:
            self.metrics.update_queue_depth()
            await asyncio.sleep(1.0)

    async def aclose(self) -> None:
        if self._depth_task is not None:
            self._depth_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._depth_task
        if self.tracing is not None:
            await self.tracing.aclose()
        self.metrics.close()
