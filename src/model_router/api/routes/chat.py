"""POST /v1/chat/completions: OpenAI's Chat Completions, streamed or not.

The route is declared on the FastAPI router for the docs, and also served by
`fast_chat_completions`, a plain ASGI endpoint that `app.py` puts in front of
FastAPI: the hot path skips FastAPI's middleware stack and dependency solving
(about half of the router's own time per request when measured), and keeps
the same authentication and the same error mapping (`api/errors.py`). Both
share `serving.py` with the other front doors' routes.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, CurrentKey, State
from model_router.api.routes.serving import body_schema, respond, serve_fast
from model_router.frontdoors.openai_chat import OpenAIChatDoor
from model_router.schemas.chat import ChatCompletionRequest

router = APIRouter(tags=["chat"])

DOOR = OpenAIChatDoor()  # stateless
BODIES: list[type[BaseModel]] = [ChatCompletionRequest]  # for the OpenAPI document


@router.post(
    "/v1/chat/completions",
    summary="Create a chat completion (OpenAI-compatible)",
    openapi_extra=body_schema(ChatCompletionRequest),
)
async def chat_completions(request: Request, key: CurrentKey, state: State) -> Response:
    return await respond(DOOR, request.headers, request.stream(), key, state)


async def fast_chat_completions(
    state: AppState, scope: Scope, receive: Receive, send: Send
) -> None:
    """The same endpoint as plain ASGI, for the hot path."""
    await serve_fast(DOOR, state, scope, receive, send)
