"""The plan of an embeddings call: the model named, its deployments and
fallbacks, the same `Plan` that `Router.run` runs (retries, fallbacks,
circuit breakers), with only embedding models in it.

`auto` chooses among chat models and is refused here: vectors of different
models do not compare, so the caller names the model. A chat model named
first is a 400; fallbacks that are not embedding models are skipped (said in
the routing reason).
"""

from __future__ import annotations

from typing import Any

from model_router.errors import InvalidRequest
from model_router.routing import auto
from model_router.routing.router import Plan, chain, models_list
from model_router.routing.table import RoutingTable
from model_router.routing.tokens import estimate_cost


def plan_embeddings(
    table: RoutingTable, model: str, options: dict[str, Any], prompt_tokens: int
) -> Plan:
    if model == auto.AUTO:
        raise InvalidRequest(
            "'auto' chooses among chat models; name an embedding model "
            "(GET /v1/models lists them).",
            param="model",
            code="model_not_supported",
        )
    routes = chain(table, [model, *models_list(options)])
    if not routes[0].embeds:
        raise InvalidRequest(
            f"The model '{model}' is not an embedding model; POST /v1/embeddings takes "
            "one (e.g. text-embedding-3-small, gemini-embedding-001).",
            param="model",
            code="model_not_supported",
        )
    kept = [r for r in routes if r.embeds]
    notes = [f"{r.name} skipped: not an embedding model" for r in routes if not r.embeds]
    estimated = estimate_cost(prompt_tokens, 0, kept[0].info.price)
    return Plan(model, kept, f"requested {model}", prompt_tokens, 0, estimated, None, notes)
