"""`POST /v1/messages/count_tokens`: the input tokens of a Messages request.

The model is resolved as a call's would be (aliases, dated names, the key's
allowed models); its first deployment's upstream counts when it can (an
Anthropic deployment passes the body on), else the door's documented estimate
(`frontdoors.anthropic_messages.count_tokens`). Nothing is billed, and no
request-log row is written: no model was called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model_router.domain.keys import KeyInfo
from model_router.errors import InvalidRequest, ProviderNotConfigured
from model_router.frontdoors.anthropic_messages import count_tokens as estimate
from model_router.governance.policy import restrict_routes
from model_router.providers.registry import ProviderPool, token_counter
from model_router.routing.router import Router


class TokenCounting:
    def __init__(self, router: Router, pool: ProviderPool) -> None:
        self._router = router
        self._pool = pool

    async def count(
        self, key: KeyInfo, body: dict[str, Any], headers: Mapping[str, str]
    ) -> dict[str, int]:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("model: Field required", param="model")
        routes = [self._router.table.get(model)]
        restrict_routes(key.allowed_models, routes, model)
        deployment = routes[0].deployments[0]
        config = deployment.config
        counted = estimate(body)  # validates the body, whoever counts
        counter = token_counter(self._pool.get(config))
        if counter is None:
            return counted
        if config.api_key is None and config.api_key_setting:
            raise ProviderNotConfigured(config.name, config.api_key_setting)
        tokens = await counter.count_tokens(body, headers, deployment.model.target)
        return {"input_tokens": tokens}
