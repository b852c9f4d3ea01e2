"""Routing's errors: members of the one hierarchy (`model_router.errors`), so
`api/errors.py` maps them like any other.

    InvalidRequest (400)
    ├── NoModelSatisfies        `auto` found no model; says which constraint excluded what
    └── ContextTooLong          no model in the chain has a window for the prompt
    UpstreamTimeout (504)
    └── DeadlineExceeded        the per-request deadline ran out across attempts
    UpstreamUnavailable (503)
    └── NoDeploymentAvailable   every deployment is open-circuited, capped or unconfigured
"""

from __future__ import annotations

from model_router.errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable


class NoModelSatisfies(InvalidRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, param="routing", code="no_model_satisfies")


class ContextTooLong(InvalidRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, param="messages", code="context_length_exceeded")


class DeadlineExceeded(UpstreamTimeout):
    def __init__(self, message: str, provider: str = "router") -> None:
        super().__init__(
            message,
            provider=provider,
            status_code=504,
            error_type="timeout_error",
            code="deadline_exceeded",
        )


class NoDeploymentAvailable(UpstreamUnavailable):
    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            provider="router",
            status_code=503,
            error_type="service_unavailable",
            code="no_deployment_available",
        )
