"""Start-up and shut-down: waiting for the database, draining, configuration errors.

Shut-down on SIGTERM/SIGINT: `/ready` answers 503 at once (the load balancer
stops sending), after SHUTDOWN_DRAIN_SECONDS uvicorn stops accepting and lets
in-flight requests finish for up to SHUTDOWN_TIMEOUT seconds, then the
lifespan flushes the request log and pending webhooks and closes the pools.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

# The CLI reads `config_error_message` before it serves: under `serve --workers N`
# the supervising process then never imports SQLAlchemy (start-up time, memory).
if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("model_router.lifecycle")

SECRET_HINTS = ("key", "secret", "password", "token", "headers")


class StartupFailed(RuntimeError):
    """The process cannot start serving (the database never answered)."""


def describe_url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=True)


async def wait_for_database(
    engine: AsyncEngine, *, wait_seconds: float, max_delay: float = 5.0
) -> None:
    """Return once the database answers; retry with backoff, saying what we wait for."""
    from sqlalchemy import text

    where = describe_url(engine)
    deadline = time.monotonic() + wait_seconds
    delay = 0.25
    attempts = 0
    while True:
        attempts += 1
        left = deadline - time.monotonic()
        try:
            async with asyncio.timeout(max(1.0, min(10.0, left))):
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
            left = deadline - time.monotonic()
            if left <= 0:
                message = (
                    f"the database at {where} did not answer within {wait_seconds:g} s "
                    f"(STARTUP_DB_WAIT); last error: {reason}"
                )
                log.error("start-up failed: %s", message)
                raise StartupFailed(message) from None
            wait = min(delay, left)
            log.warning(
                "waiting for the database at %s (%s); retry in %.1f s, giving up in %.0f s",
                where,
                reason,
                wait,
                left,
            )
            await asyncio.sleep(wait)
            delay = min(delay * 2, max_delay)
            continue
        if attempts > 1:
            log.info("the database at %s answers after %d attempts", where, attempts)
        return


def install_drain(begin_drain: Callable[[], None], drain_seconds: float) -> bool:
    """Wrap the server's SIGTERM/SIGINT handlers: mark the app draining first.

    uvicorn installs its handlers before the lifespan starts and restores the
    originals when it exits, so wrapping them here is undone with them. With
    `drain_seconds` > 0 the server's own handler (stop accepting, finish
    in-flight requests) runs that much later; a second signal does not wait.
    Returns False where signals cannot be handled (not the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    signalled: list[int] = []

    def wrap(sig: int) -> None:
        previous = signal.getsignal(sig)
        if not callable(previous):
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            first = not signalled
            signalled.append(signum)
            begin_drain()
            if first and drain_seconds > 0:
                log.info(
                    "signal %s: draining; /ready answers 503, closing in %g s",
                    signal.Signals(signum).name,
                    drain_seconds,
                )
                loop.call_soon_threadsafe(loop.call_later, drain_seconds, previous, signum, frame)
            else:
                previous(signum, frame)

        signal.signal(sig, handler)

    for sig in (signal.SIGTERM, signal.SIGINT):
        wrap(sig)
    return True


def _setting_name(loc: tuple[int | str, ...]) -> str:
    return str(loc[0]).upper() if loc else "settings"


def config_error_message(exc: ValidationError) -> str:
    """pydantic-settings errors as one line per setting: name, reason, value."""
    lines = []
    for error in exc.errors():
        name = _setting_name(error["loc"])
        reason = str(error["msg"]).removeprefix("Value error, ")
        value: Any = error.get("input")
        shown = ""
        if isinstance(value, str | int | float) and not any(
            hint in name.lower() for hint in SECRET_HINTS
        ):
            shown = f" (got {str(value)[:80]!r})"
        lines.append(f"{name}: {reason}{shown}")
    return "invalid configuration: " + "; ".join(lines)
