"""The one error hierarchy. `api/errors.py` is the only place that maps it to HTTP.

    RouterError                      status  type
    ├── InvalidRequest               400     invalid_request_error
    │   └── UnsupportedFeature       400     invalid_request_error (a provider cannot do it)
    ├── PayloadTooLarge              413     invalid_request_error
    ├── AuthenticationError          401     authentication_error
    │   └── KeyExpired               401     authentication_error (code key_expired)
    ├── PermissionDenied             403     permission_error
    │   └── ModelNotAllowed          403     permission_error (code model_not_allowed)
    ├── RateLimited                  429     rate_limit_error (the key's RPM/TPM; retry-after)
    ├── BudgetExceeded               429     insufficient_quota (code budget_exceeded)
    ├── GovernanceUnavailable        503     service_unavailable (Redis down, fail closed)
    ├── StoreUnavailable             503     service_unavailable (stored responses unreadable)
    ├── NotFound                     404     not_found_error
    │   └── ModelNotFound            404     not_found_error (code model_not_found)
    ├── ProviderNotConfigured        503     service_unavailable (names the setting)
    └── UpstreamError                status from the provider, see below
        ├── UpstreamRateLimited      429     rate_limit_error (retry-after passed on)
        ├── UpstreamTimeout          504     timeout_error
        └── UpstreamUnavailable      502/503 upstream_error (5xx, unreachable, bad JSON)

Every error carries a message fit for the client; upstream errors also carry the
provider, the upstream status, a `retryable` flag and a redacted upstream body.
"""

from __future__ import annotations


class RouterError(Exception):
    status_code = 500
    error_type = "server_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers or {}


class InvalidRequest(RouterError):
    status_code = 400
    error_type = "invalid_request_error"


class UnsupportedFeature(InvalidRequest):
    pass


class PayloadTooLarge(RouterError):
    status_code = 413
    error_type = "invalid_request_error"


class AuthenticationError(RouterError):
    status_code = 401
    error_type = "authentication_error"


class PermissionDenied(RouterError):
    status_code = 403
    error_type = "permission_error"


class KeyExpired(AuthenticationError):
    def __init__(self, expired_at: str) -> None:
        super().__init__(f"This API key expired at {expired_at}.", code="key_expired")


class ModelNotAllowed(PermissionDenied):
    def __init__(self, model: str) -> None:
        super().__init__(
            f"This API key may not use the model '{model}'.",
            param="model",
            code="model_not_allowed",
        )


class RateLimited(RouterError):
    """The key's own requests-per-minute or tokens-per-minute limit."""

    status_code = 429
    error_type = "rate_limit_error"


class BudgetExceeded(RouterError):
    status_code = 429
    error_type = "insufficient_quota"


class GovernanceUnavailable(RouterError):
    status_code = 503
    error_type = "service_unavailable"


class StoreUnavailable(RouterError):
    """The router's database could not be read for a stored response."""

    status_code = 503
    error_type = "service_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "The router's database is unavailable: stored responses cannot be read now; "
            "try again shortly.",
            code="database_unavailable",
            headers={"retry-after": "1"},
        )


class NotFound(RouterError):
    status_code = 404
    error_type = "not_found_error"


class ModelNotFound(NotFound):
    def __init__(self, model: str) -> None:
        super().__init__(
            f"The model '{model}' does not exist or is not active. GET /v1/models lists them.",
            param="model",
            code="model_not_found",
        )
        self.model = model


class ProviderNotConfigured(RouterError):
    status_code = 503
    error_type = "service_unavailable"

    def __init__(self, provider: str, setting: str) -> None:
        super().__init__(
            f"Provider '{provider}' has no API key configured: set {setting}.",
            code="provider_not_configured",
        )
        self.provider = provider
        self.setting = setting


class UpstreamError(RouterError):
    """The provider answered with an error, or could not be reached."""

    error_type = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int,
        upstream_status: int | None = None,
        error_type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        retryable: bool = False,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, headers=headers)
        self.status_code = status_code
        if error_type is not None:
            self.error_type = error_type
        self.provider = provider
        self.upstream_status = upstream_status
        self.retryable = retryable
        self.body = body


class UpstreamRateLimited(UpstreamError):
    pass


class UpstreamTimeout(UpstreamError):
    pass


class UpstreamUnavailable(UpstreamError):
    pass
