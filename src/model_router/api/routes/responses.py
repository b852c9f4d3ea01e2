"""The OpenAI Responses API: `POST /v1/responses` (streamed or not), and the
stored responses: `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`,
`GET /v1/responses/{id}/input_items`.

A `previous_response_id` is expanded here, before the service sees the body:
the stored response's input and output items, then the new input
(`conversation_items`), whatever model answered before. The answer is stored
by the door's `keep` hook (`services/responses_store.py`). Errors are
OpenAI's shape; a call refused before the service (an unknown previous
response) is recorded all the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from model_router.api.deps import AppState, CurrentKey, State
from model_router.api.routes.serving import answer, read_json_object, serve_fast
from model_router.calls import Call
from model_router.domain.content import Json
from model_router.domain.keys import KeyInfo
from model_router.domain.request import Request as NeutralRequest
from model_router.errors import InvalidRequest, RouterError
from model_router.frontdoors.openai_responses import ResponsesDoor, conversation_items
from model_router.jsonutil import dumps
from model_router.schemas.responses import ResponsesRequest

router = APIRouter(tags=["responses"])

_BODY_SCHEMA = ResponsesRequest.model_json_schema(ref_template="#/components/schemas/{model}")
_BODY_SCHEMA.pop("$defs", None)


def _door(state: AppState, key: KeyInfo) -> ResponsesDoor:
    """The door for one call, storing its answer for `key`."""

    def keep(request: NeutralRequest, response: Json) -> None:
        state.responses.keep(key, request.client_body or {}, response)

    return ResponsesDoor(keep=keep)


@router.post(
    "/v1/responses",
    summary="Create a model response (OpenAI Responses API)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BODY_SCHEMA}},
        }
    },
)
async def create_response(request: Request, key: CurrentKey, state: State) -> Response:
    return await _create(state, key, request.headers, request.stream())


async def fast_create_response(state: AppState, scope: Scope, receive: Receive, send: Send) -> None:
    """The same endpoint as plain ASGI, for the hot path (`app.py`): errors in
    OpenAI's shape, as FastAPI's handlers render them."""
    await serve_fast(None, state, scope, receive, send, _create)


async def _create(
    state: AppState, key: KeyInfo, headers: Mapping[str, str], chunks: AsyncIterator[bytes]
) -> Response:
    state.ops.saw_key(key)
    door = _door(state, key)
    try:
        body = await read_json_object(headers, chunks, state.settings.max_request_bytes)
    except RouterError as exc:
        state.completions.reject(key, exc, door)
        raise
    call = Call(key=key, body=body, front_door=door.name, headers=headers)
    try:
        call.body = await _expanded(state, key, body)
    except RouterError as exc:
        state.completions.refuse(call, exc)
        raise
    return await answer(state, call, door)


async def _expanded(state: AppState, key: KeyInfo, body: Json) -> Json:
    """The body with a `previous_response_id`'s conversation put before its input."""
    previous_id = body.get("previous_response_id")
    if previous_id is None:
        return body
    if not isinstance(previous_id, str) or not previous_id:
        raise InvalidRequest(
            "previous_response_id: must be a response id", param="previous_response_id"
        )
    new_input = body.get("input", [])
    if not (
        isinstance(new_input, str)
        or (isinstance(new_input, list) and all(isinstance(i, dict) for i in new_input))
    ):
        raise InvalidRequest("input: must be a string or a list of input items", param="input")
    previous = await state.responses.previous(key, previous_id)
    output = previous.response.get("output") or []
    return body | {"input": conversation_items(previous.input_items, output, new_input)}


@router.get("/v1/responses/{response_id}", summary="A stored response")
async def get_response(response_id: str, key: CurrentKey, state: State) -> Response:
    stored = await state.responses.get(key, response_id)
    return Response(dumps(stored.response), media_type="application/json")


@router.delete("/v1/responses/{response_id}", summary="Delete a stored response")
async def delete_response(response_id: str, key: CurrentKey, state: State) -> dict[str, Any]:
    await state.responses.delete(key, response_id)
    return {"id": response_id, "object": "response.deleted", "deleted": True}


@router.get(
    "/v1/responses/{response_id}/input_items", summary="The input items of a stored response"
)
async def list_input_items(
    response_id: str,
    key: CurrentKey,
    state: State,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> Response:
    stored = await state.responses.get(key, response_id)
    items = stored.input_items if order == "asc" else stored.input_items[::-1]
    if after is not None:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise InvalidRequest(
                f"after: no input item '{after}' in response '{response_id}'", param="after"
            )
        items = items[ids.index(after) + 1 :]
    page = items[:limit]
    body = {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }
    return Response(dumps(body), media_type="application/json")
