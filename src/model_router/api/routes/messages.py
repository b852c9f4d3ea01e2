"""POST /v1/messages (Anthropic's Messages API, streamed or not) and
POST /v1/messages/count_tokens.

Served like chat (`serving.py`): the FastAPI route is declared for the docs,
and `fast_messages` answers on the hot path (`app.py`), whatever the query
string (Claude Code sends `?beta=true`). Every error on these endpoints is in
Anthropic's shape (`{"type": "error", "error": {"type", "message"}}`), and an
error after a stream started is an `event: error` frame.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, State, api_key_in
from model_router.api.errors import door_error_response, unexpected_error_response
from model_router.api.routes.serving import body_schema, read_json_object, respond, serve_fast
from model_router.errors import RouterError
from model_router.frontdoors.anthropic_messages import MessagesDoor
from model_router.jsonutil import dumps
from model_router.schemas.anthropic import CountTokensRequest, MessagesRequest

router = APIRouter(tags=["messages"])
DOOR = MessagesDoor()  # stateless
BODIES: list[type[BaseModel]] = [MessagesRequest, CountTokensRequest]  # for the OpenAPI document


@router.post(
    "/v1/messages",
    summary="Create a message (Anthropic Messages API)",
    openapi_extra=body_schema(MessagesRequest),
)
async def create_message(request: Request, state: State) -> Response:
    try:
        key = await state.keys.authenticate(api_key_in(request.headers))
        return await respond(DOOR, request.headers, request.stream(), key, state)
    except RouterError as exc:
        return door_error_response(exc, DOOR)
    except Exception as exc:
        return unexpected_error_response(exc, DOOR)


async def fast_messages(state: AppState, scope: Scope, receive: Receive, send: Send) -> None:
    await serve_fast(DOOR, state, scope, receive, send)


@router.post(
    "/v1/messages/count_tokens",
    summary="Count a Messages request's input tokens (Anthropic Messages API)",
    openapi_extra=body_schema(CountTokensRequest),
)
async def count_tokens(request: Request, state: State) -> Response:
    """Anthropic's own count for a model it serves, else an estimate (see
    `frontdoors.anthropic_messages.count_tokens`). Not billed, not logged."""
    try:
        key = await state.keys.authenticate(api_key_in(request.headers))
        state.ops.saw_key(key)
        limit = state.settings.max_request_bytes
        body = await read_json_object(request.headers, request.stream(), limit)
        counted = await state.token_counting.count(key, body, request.headers)
    except RouterError as exc:
        return door_error_response(exc, DOOR)
    except Exception as exc:
        return unexpected_error_response(exc, DOOR)
    return Response(dumps(counted), media_type="application/json")
