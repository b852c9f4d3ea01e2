"""What every service does around one upstream attempt, whatever it asks
(a completion, embeddings): find the adapter of the deployment tried, and
say in the routing reason who answered, after how many tries."""

from __future__ import annotations

from model_router.calls import Call
from model_router.errors import ProviderNotConfigured
from model_router.providers.base import ProviderConfig
from model_router.routing.deployments import Deployment


def attempting(call: Call, deployment: Deployment) -> ProviderConfig:
    """The configuration of the deployment tried now; `call.model` follows it.
    A provider without its key is a 503 naming the setting."""
    call.model = deployment.model
    call.deployment = deployment
    config = deployment.config
    if config.api_key is None and config.api_key_setting:
        raise ProviderNotConfigured(config.name, config.api_key_setting)
    return config


def answered_by(call: Call, deployment: Deployment) -> None:
    """The routing reason, completed with who answered and after how many tries."""
    assert call.plan is not None
    reason = call.plan.reason
    if call.plan.notes:
        reason += "; " + "; ".join(call.plan.notes)
    tries = len(call.attempts)
    reason += f"; answered by {deployment.name}"
    if tries > 1:
        failed = ", ".join(f"{a['deployment']} {a['status']}" for a in call.attempts[:-1])
        reason += f" after {tries} attempts ({failed})"
    call.response_headers["x-router-reason"] = reason
