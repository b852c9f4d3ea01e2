"""What the reliability tests share: a router of their own, in this process, whose
loop and state they can inspect (tasks, spill files), and request-log counts.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from model_router.api.deps import AppState
from model_router.app import Gateway, create_app
from model_router.db.engine import make_engine
from model_router.db.models import Request
from model_router.settings import Settings
from tests.mocks.server import ServerThread


class LoopServer(ServerThread):
    """ServerThread that remembers its event loop."""

    loop: asyncio.AbstractEventLoop

    def _run(self) -> None:
        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve()

        asyncio.run(serve())

    def call(self, work: Callable[[], Any]) -> Any:
        """Run `work()` on the server's loop and return its result."""

        async def run() -> Any:
            return work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def task_count(self) -> int:
        return int(self.call(lambda: len(asyncio.all_tasks())))


@contextmanager
def own_router(settings: Settings, **overrides: Any) -> Iterator[tuple[LoopServer, AppState]]:
    """The real app on a real socket, with `overrides` applied to `settings`."""
    app: Gateway = create_app(settings.model_copy(update=overrides))
    with LoopServer(app, lifespan="on") as server:
        state: AppState = app.api.state.router
        yield server, state


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def count_rows(database_url: str, user_id: uuid.UUID | str) -> tuple[int, int]:
    """(rows, distinct ids) of one key's requests in the database."""

    async def run() -> tuple[int, int]:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as conn:
                query = select(func.count(), func.count(func.distinct(Request.id))).where(
                    Request.user_id == uuid.UUID(str(user_id))
                )
                rows, distinct = (await conn.execute(query)).one()
                return int(rows), int(distinct)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def wait_for_rows(
    database_url: str, user_id: uuid.UUID | str, expected: int, timeout: float
) -> int:
    """Poll until `expected` rows are in; the count reached either way."""
    deadline = time.monotonic() + timeout
    while True:
        rows, _ = count_rows(database_url, user_id)
        if rows >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def key_id(router: Any, key: str) -> uuid.UUID:
    """The user id behind an API key."""
    from model_router.services.keys import hash_key

    async def run(sessions: Any) -> uuid.UUID:
        from model_router.db.models import User

        async with sessions() as session:
            user = await session.scalar(select(User).where(User.key_hash == hash_key(key)))
            assert user is not None
            return uuid.UUID(str(user.id))

    return uuid.UUID(str(router.run(run)))
