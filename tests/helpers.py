"""Small helpers the integration tests share."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import anthropic
import httpx
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from model_router.db import partitions, rollup, search
from model_router.db.engine import make_engine
from model_router.db.models import Request, User
from model_router.db.records import RequestRecord


def chat(
    client: httpx.Client, text: str, model: str = "gpt-4o-mini", **extra: Any
) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return client.post("/v1/chat/completions", json=body)


def assert_error(
    response: httpx.Response, status: int, *, param: str | None = None
) -> dict[str, Any]:
    """An error in OpenAI's shape, with the status (and param) expected."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    if param is not None:
        assert error["param"] == param, error
    return dict(error)


def request_detail(client: httpx.Client, request_id: str, timeout: float = 3.0) -> dict[str, Any]:
    """The analytics detail of a request, waiting briefly for it to appear."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/analytics/requests/{request_id}")
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            return dict(response.json())
        time.sleep(0.05)


def sse_lines(response: httpx.Response) -> list[str]:
    """The `data:` payloads of an SSE response, in order."""
    return [line[6:] for line in response.iter_lines() if line.startswith("data: ")]


def anthropic_client(url: str, key: str, **kwargs: Any) -> anthropic.Anthropic:
    """The Anthropic SDK, unchanged, on the router (no retries: tests see every error)."""
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, **kwargs)


def latest_rows(client: httpx.Client, count: int = 1) -> list[dict[str, Any]]:
    """The analytics detail of the caller's `count` latest requests, newest first
    (numbers with a fraction as Decimal, exactly as sent)."""
    listed = client.get("/v1/analytics/requests", params={"per_page": count})
    assert listed.status_code == 200, listed.text
    rows = listed.json()["requests"]
    assert len(rows) == count, rows
    details = [client.get(f"/v1/analytics/requests/{row['id']}") for row in rows]
    return [json.loads(d.text, parse_float=Decimal) for d in details]


async def store_as_the_writer(engine: AsyncEngine, rows: list[dict[str, Any]], until: Any) -> None:
    """Rows stored as the request-log writer stores them: with their rollup sums
    (and on SQLite in the search index),
    in one transaction (PostgreSQL: their months made first, up to `until`)."""
    async with engine.begin() as conn:
        await conn.run_sync(partitions.ensure, min(r["created_at"] for r in rows), until)
        await conn.execute(insert(Request), rows)
        await rollup.add_rows(conn, [RequestRecord(**r) for r in rows])
        if await search.has_fts(conn):
            await search.index_new_rows(conn)


@asynccontextmanager
async def request_log(
    url: str, keys: Iterable[uuid.UUID], rows: list[dict[str, Any]], until: Any
) -> AsyncIterator[AsyncEngine]:
    """An engine on `url` whose request log holds just `rows` (of these keys),
    stored as the writer stores them."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(delete(Request))
        async with async_sessionmaker(engine)() as session:
            session.add_all(
                User(id=k, name=f"key {k.int}", key_hash=f"{k.int:064x}", key_prefix=f"k{k.int}")
                for k in keys
            )
            await session.commit()
        await store_as_the_writer(engine, rows, until)
        yield engine
    finally:
        await engine.dispose()
