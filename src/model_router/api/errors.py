"""The one place errors become HTTP responses: in OpenAI's error shape
(`{"error": {"message", "type", "param", "code"}}`) by default, in a front
door's own shape (`door.error_body`) on that door's routes.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from model_router.errors import RouterError
from model_router.frontdoors.base import Door
from model_router.frontdoors.openai_chat import error_json
from model_router.jsonutil import dumps

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_response(
    status: int,
    message: str,
    error_type: str,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = dumps(error_json(message, error_type, param, code))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def router_error_response(exc: RouterError) -> Response:
    return error_response(
        exc.status_code, exc.message, exc.error_type, exc.param, exc.code, exc.headers
    )


def door_error_response(exc: RouterError, door: Door | None = None) -> Response:
    """`exc` in the door's error shape (OpenAI's without a door)."""
    if door is None:
        return router_error_response(exc)
    return Response(
        door.error_body(exc),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


class _Unavailable(RouterError):
    status_code = 503
    error_type = "service_unavailable"


def database_unavailable(exc: BaseException) -> bool:
    """The router's own database could not be reached (not a bug: a 503)."""
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unexpected_error_response(exc: Exception, door: Door | None = None) -> Response:
    if database_unavailable(exc):
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        error: RouterError = _Unavailable(
            "The router's database is unavailable; try again shortly.",
            code="database_unavailable",
            headers={"retry-after": "1"},
        )
    else:
        log.exception("unhandled error", exc_info=exc)
        error = RouterError("Internal error in the router.")
    return door_error_response(error, door)


async def _router_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RouterError)
    return router_error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    where = f"'{param}'" if param else "the request"
    return error_response(
        422,
        f"Invalid value for {where}: {message}",
        "invalid_request_error",
        param,
        "invalid_value",
    )


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if status == 404 and message == "Not Found":
        message = "No such endpoint. See /docs for the API."
    return error_response(status, message, _HTTP_TYPES.get(status, "server_error"))


async def _unexpected(_request: Request, exc: Exception) -> Response:
    return unexpected_error_response(exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RouterError, _router_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
