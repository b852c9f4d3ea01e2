"""What a front door is: translate a client's body into the neutral `Request`,
and render the neutral answer (whole, streamed, or an error) in its own wire
format. The service does everything else (routing, governance, cache, pricing,
the request log) the same for every door.

A front door never sees a provider adapter's wire types, and no adapter knows
which door a call came through: a `NativeBody` in the request (and a
`NativeFrame` or `Completion.native` in the answer) is the one shortcut, for an
upstream that speaks the door's own protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from model_router.costs.pricing import Cost
from model_router.domain.completion import Completion, StreamEvent
from model_router.domain.request import FrontDoor, Request
from model_router.errors import InvalidRequest, RouterError
from model_router.jsonutil import dumps
from model_router.schemas.tagged import error_path

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Answered:
    """What a rendered answer says beside the model's own output."""

    request_id: str
    model: str  # the catalogue name of the model that answered
    provider: str
    created: datetime
    latency_ms: int
    cost: Cost | None


class StreamWriter(Protocol):
    """Frames one streamed answer as bytes (SSE) for the client.

    Called in this order: `event` for each event as it arrives (`Flush` and
    `UsageReport` included; `NativeFrame`s come before the parsed events of the
    same upstream frame, and a native stream starts with one), then `close`
    once the upstream finished, or `error` if it failed after content was sent.
    Each returns the bytes to send (b"" for nothing); the service decides when
    to write them.
    """

    def event(self, event: StreamEvent) -> bytes: ...

    def close(self, completion: Completion, answered: Answered) -> bytes: ...

    def error(self, error: RouterError) -> bytes: ...


class Door(Protocol):
    name: FrontDoor

    def to_request(self, body: dict[str, Any], headers: Mapping[str, str]) -> Request:
        """The neutral request; raises `InvalidRequest` (a 400 naming the field)."""
        ...

    def render(self, completion: Completion, answered: Answered, request: Request) -> bytes:
        """The whole answer, as the JSON body of a 200; `request` is the call's
        (a door whose answer echoes the request reads it)."""
        ...

    def stream_writer(self, request: Request, answered: Answered) -> StreamWriter:
        """A writer for one streamed answer (`answered.cost` is None until `close`)."""
        ...

    def error_body(self, error: RouterError) -> bytes:
        """An error in this door's shape (OpenAI's `{"error": ...}`, Anthropic's
        `{"type": "error", "error": ...}`); the status is `error.status_code`."""
        ...


def validate(model: type[M], body: dict[str, Any]) -> M:
    """The body as `model`, or a 400 naming the first field at fault."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        path, problem = error_path(exc)
        raise InvalidRequest(f"{path or 'body'}: {problem}", param=path or None) from exc


def sse(name: str, data: dict[str, Any]) -> bytes:
    """One server-sent event with its name, as Anthropic and the Responses API frame them."""
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


def cost_json(cost: Cost | None) -> dict[str, Any]:
    """The router's cost fields, beside a door's usage (null when a price is unknown)."""
    return {
        "input_cost_usd": cost.input_usd if cost else None,
        "output_cost_usd": cost.output_usd if cost else None,
        "total_cost_usd": cost.total_usd if cost else None,
    }
