"""The seam: a pool name in `model` becomes a `Plan`, as `auto` does.

    pool = learned.pool(request.model)                     # None: not a pool
    plan, decision = plan_pool(router, learned.learner, pool, request, limits)
    ...call plan.routes in order (the chosen model first, then the others,
       cheapest first, as fallbacks)...
    learned.learner.observe(call_id, decision, request, Outcome(...), key_id=key_id)

The candidates are the pool's models that can serve this request (key,
price, context window, capabilities, the request's `routing` constraints,
health: `auto.rank`), each with its estimated cost; the learner picks one.
"""

from __future__ import annotations

from model_router.costs.catalogue import Capability
from model_router.domain.content import Image, ToolResult
from model_router.domain.request import Request
from model_router.routing import auto
from model_router.routing.learned.features import features_of
from model_router.routing.learned.learner import Learner
from model_router.routing.learned.policy import Decision
from model_router.routing.learned.pools import PoolSpec
from model_router.routing.router import Plan, Router
from model_router.routing.tokens import EXPECTED_OUTPUT_TOKENS


def capabilities_of(request: Request) -> frozenset[Capability]:
    used: set[Capability] = set()
    if request.tools:
        used.add("tools")
    for message in request.messages:
        for part in message.parts:
            inner = part.content if isinstance(part, ToolResult) else [part]
            if any(isinstance(p, Image) for p in inner):
                used.add("vision")
    if request.output_format is not None and request.output_format.type == "json_schema":
        used.add("json_schema")
    if request.stream:
        used.add("streaming")
    return frozenset(used)


def plan_pool(
    router: Router,
    learner: Learner,
    pool: PoolSpec,
    request: Request,
    limits: auto.Constraints | None = None,
) -> tuple[Plan, Decision]:
    """The plan for a request naming `pool`; raises as `auto` does when no
    candidate can serve it (400 naming what excluded each)."""
    features = features_of(request)
    output = request.max_output_tokens or EXPECTED_OUTPUT_TOKENS
    needs = auto.Needs(
        features.prompt_tokens, output, request.max_output_tokens, capabilities_of(request)
    )
    routes = [router.table.get(name) for name in pool.candidates]
    ranked = auto.rank(routes, needs, limits or auto.Constraints())
    by_name = {r.route.name: r.route for r in ranked}
    decision = learner.choose(
        pool, request, [(r.route.name, r.cost) for r in ranked], features=features
    )
    plan = Plan(
        requested=pool.name,
        routes=[by_name[name] for name in decision.order],
        reason=decision.reason,
        prompt_tokens=features.prompt_tokens,
        output_tokens=output,
        estimated_cost=decision.estimated_cost,
        default_cost=decision.default_cost,
    )
    return plan, decision
