"""What an e2e client's calls left in analytics: its key's rows, each priced exactly."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx


def rows_of(client: httpx.Client, expected: int) -> list[dict[str, Any]]:
    """The key's request rows, once the log has written (at least) `expected` of them."""
    deadline = time.monotonic() + 20
    while True:
        page = client.get("/v1/analytics/requests", params={"per_page": 50})
        assert page.status_code == 200, page.text
        rows: list[dict[str, Any]] = page.json()["requests"]
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def assert_recorded(
    client: httpx.Client,
    *,
    calls: int,
    model: str,
    provider: str,
    front_door: str,
    priced_as: str | None = None,
) -> None:
    """`calls` successful calls of `model`, each charged exactly its tokens at
    the catalogue's rates of `priced_as` (default: `model`; a routing-file
    alias is priced as the model it deploys). The mocks report no cache use."""
    rows = rows_of(client, calls)
    assert len(rows) == calls, rows
    catalogue = client.get("/v1/analytics/models")
    assert catalogue.status_code == 200, catalogue.text
    (entry,) = [
        m
        for m in catalogue.json()
        if (m["provider"], m["model_id"]) == (provider, priced_as or model)
    ]
    input_rate = Decimal(str(entry["input_price_per_1m_tokens"]))
    output_rate = Decimal(str(entry["output_price_per_1m_tokens"]))
    for row in rows:
        assert row["status"] == "success", row
        assert (row["model"], row["provider"], row["front_door"]) == (model, provider, front_door)
        assert row["input_tokens"] > 0 and row["output_tokens"] > 0
        expected = (row["input_tokens"] * input_rate + row["output_tokens"] * output_rate) / 10**6
        assert Decimal(str(row["total_cost_usd"])) == expected, row
