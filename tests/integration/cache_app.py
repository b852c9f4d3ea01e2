"""A second router app on the shared test database, with its own settings
(the response cache and experiments tests switch features on)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from model_router.app import create_app
from tests.conftest import Router
from tests.mocks.server import Recorded, ServerThread


@contextmanager
def serve(router: Router, **settings: Any) -> Iterator[str]:
    """The router app with `settings` changed, on a real socket: its URL."""
    changed = router.settings.model_copy(update=settings)
    with ServerThread(create_app(changed), lifespan="on") as server:
        yield server.url


def chat_calls(requests: list[Recorded]) -> int:
    """How many chat completions a mock received."""
    return sum(1 for r in requests if r.path.endswith("/chat/completions"))
