"""A streamed answer in the Responses API's event sequence:

    response.created, response.in_progress        (status in_progress, no output yet)
    response.output_item.added      output_index 0
      reasoning: response.reasoning_summary_part.added, .reasoning_summary_text.delta ...,
                 .reasoning_summary_text.done, .reasoning_summary_part.done
      message:   response.content_part.added, .output_text.delta ...,
                 .output_text.done, .content_part.done
      function_call: response.function_call_arguments.delta ..., .function_call_arguments.done
    response.output_item.done       output_index 0
    response.output_item.added      output_index 1 ...
    response.completed              (or response.incomplete: the whole response, usage and cost)

An item is opened each time the kind of content changes (reasoning -> text ->
function call) and for each new tool call; a reasoning signature closes its
reasoning item (as its `encrypted_content`); redacted reasoning is an item
opened and closed at once. Every event has the next `sequence_number`; ids
and indexes are the ones the whole answer (`responses_render`) gives.

A refusal (known from the whole answer) is a last message item, its
`refusal` part sent at `close`. An error after content is an `error` event,
then `response.failed` holding the items so far.

The final response (completed or incomplete) goes to `keep`, when given, so
the service can store it for `previous_response_id`.

Each call returns the bytes it made, at once; the service holds them until a
`Flush` (which makes nothing itself) and writes them in one go. A text delta
of the open message, most of a stream's events, is framed from bytes made
once per item (as chat's chunks are), the same bytes `_sse` would make.
`NativeFrame`s make nothing: this door has no native upstream yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from model_router.domain.completion import (
    Completion,
    Finish,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.content import Json
from model_router.domain.request import Request
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.frontdoors.base import Answered, sse
from model_router.frontdoors.responses_render import (
    failure_json,
    final_status,
    function_call_item,
    item_id,
    message_item,
    output_text,
    reasoning_item,
    response_body,
    usage_json,
)
from model_router.jsonutil import dumps

_MESSAGE = ("message", -1)
_TEXT_DELTA = "response.output_text.delta"
_TEXT_HEAD = b'event: %b\ndata: {"type":"%b","sequence_number":' % ((_TEXT_DELTA.encode(),) * 2)
_TEXT_TAIL = b',"logprobs":[]}\n\n'


class ResponsesStreamWriter:
    """Frames one streamed answer as Responses API server-sent events."""

    def __init__(
        self,
        request: Request,
        answered: Answered,
        keep: Callable[[Request, Json], None] | None = None,
    ) -> None:
        self._request = request
        self._keep = keep  # given the final response, to store it
        self._answered = answered
        self._sequence = -1
        self._started = False
        self._usage = Usage()
        self._items: list[Json] = []  # output so far; the last one is open if `_open`
        self._open: tuple[str, int] | None = None  # (kind, tool call index) of the open item
        self._text = ""  # the open item's text (or arguments) so far
        self._text_where = b""  # the open message's fields after the sequence number

    def event(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            if self._open == _MESSAGE:  # the open message's next text: `_text_delta`'s frame
                self._text += event.text
                self._sequence += 1
                return b"%b%d%b%b%b" % (
                    _TEXT_HEAD,
                    self._sequence,
                    self._text_where,
                    orjson.dumps(event.text),
                    _TEXT_TAIL,
                )
            return self._open_item("message") + self._text_delta(event.text)
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if isinstance(event, Finish):
            return self._close_item()
        if isinstance(event, ReasoningDelta):
            return self._open_item("reasoning") + self._reasoning_delta(event.text)
        if isinstance(event, ReasoningSignature):
            head = self._open_item("reasoning")
            self._items[-1]["encrypted_content"] = event.signature
            return head + self._close_item()
        if isinstance(event, RedactedReasoningBlock):
            head = self._open_item("reasoning")
            self._items[-1]["encrypted_content"] = event.data
            return head + self._close_item()
        if isinstance(event, ToolCallDelta):
            return self._tool_call(event)
        return b""  # Flush, NativeFrame

    def close(self, completion: Completion, answered: Answered) -> bytes:
        frames = self._start() + self._close_item()
        if completion.refusal:
            frames += self._refusal(completion.refusal)
        status, incomplete = final_status(completion)
        response = response_body(
            answered,
            self._request,
            status=status,
            output=self._items,
            usage=usage_json(completion.usage, answered.cost),
            incomplete=incomplete,
        )
        if self._keep is not None:
            self._keep(self._request, response)
        name = "response.completed" if status == "completed" else "response.incomplete"
        return frames + self._sse(name, {"response": response})

    def error(self, error: RouterError) -> bytes:
        event = {"code": error.code or error.error_type, "message": error.message}
        frames = self._start() + self._sse("error", event | {"param": error.param})
        response = response_body(
            self._answered,
            self._request,
            status="failed",
            output=self._items,
            usage=usage_json(self._usage, None),
            error=failure_json(error),
        )
        return frames + self._sse("response.failed", {"response": response})

    # --- items ----------------------------------------------------------------------

    def _text_delta(self, text: str) -> bytes:
        self._text += text
        return self._sse(
            "response.output_text.delta", self._where(0) | {"delta": text, "logprobs": []}
        )

    def _reasoning_delta(self, text: str) -> bytes:
        where = self._where() | {"summary_index": 0}
        head = b""
        if not self._text:
            part = {"type": "summary_text", "text": ""}
            head = self._sse("response.reasoning_summary_part.added", where | {"part": part})
        self._text += text
        return head + self._sse("response.reasoning_summary_text.delta", where | {"delta": text})

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        head = b""
        if self._open != ("function_call", event.index):
            head = self._start() + self._close_item()
            index = len(self._items)
            call_id = event.id or item_id("call", self._answered, index)
            item = function_call_item(
                item_id("fc", self._answered, index), call_id, event.name or "", "", "in_progress"
            )
            head += self._add(("function_call", event.index), item)
        if not event.arguments:
            return head
        self._text += event.arguments
        return head + self._sse(
            "response.function_call_arguments.delta", self._where() | {"delta": event.arguments}
        )

    def _refusal(self, refusal: str) -> bytes:
        """The refusal, known once the answer is whole: a message item of its own."""
        item = message_item(item_id("msg", self._answered, len(self._items)), [], "in_progress")
        frames = self._add(("refusal", -1), item)
        self._open = None
        empty, part = {"type": "refusal", "refusal": ""}, {"type": "refusal", "refusal": refusal}
        frames += self._sse("response.content_part.added", self._where(0) | {"part": empty})
        frames += self._sse("response.refusal.delta", self._where(0) | {"delta": refusal})
        frames += self._sse("response.refusal.done", self._where(0) | {"refusal": refusal})
        frames += self._sse("response.content_part.done", self._where(0) | {"part": part})
        item |= {"content": [part], "status": "completed"}
        return frames + self._sse(
            "response.output_item.done", {"output_index": len(self._items) - 1, "item": item}
        )

    def _open_item(self, kind: str) -> bytes:
        """Open an item of `kind` unless one is open already; b"" if so."""
        if self._open == (kind, -1):
            return b""
        frames = self._start() + self._close_item()
        index = len(self._items)
        if kind == "message":
            frames += self._add(
                (kind, -1), message_item(item_id("msg", self._answered, index), [], "in_progress")
            )
            where = dumps(self._where(0) | {"delta": None})  # {..., "delta":null}
            self._text_where = b"," + where[1 : -len(b"null}")]
            return frames + self._sse(
                "response.content_part.added", self._where(0) | {"part": output_text("")}
            )
        item = reasoning_item(item_id("rs", self._answered, index), None, None)
        return frames + self._add((kind, -1), item)

    def _add(self, key: tuple[str, int], item: Json) -> bytes:
        self._open, self._text = key, ""
        self._items.append(item)
        return self._sse(
            "response.output_item.added", {"output_index": len(self._items) - 1, "item": item}
        )

    def _close_item(self) -> bytes:
        if self._open is None:
            return b""
        kind, _ = self._open
        item, text = self._items[-1], self._text
        self._open, self._text = None, ""
        frames = b""
        if kind == "message":
            part = output_text(text)
            frames += self._sse(
                "response.output_text.done", self._where(0) | {"text": text, "logprobs": []}
            )
            frames += self._sse("response.content_part.done", self._where(0) | {"part": part})
            item["content"] = [part]
        elif kind == "reasoning":
            part = {"type": "summary_text", "text": text}
            if text:
                where = self._where() | {"summary_index": 0}
                frames += self._sse("response.reasoning_summary_text.done", where | {"text": text})
                frames += self._sse("response.reasoning_summary_part.done", where | {"part": part})
            item["summary"] = [part] if text else []
        else:
            item["arguments"] = text
            done = self._where() | {"name": item["name"], "arguments": text}
            frames += self._sse("response.function_call_arguments.done", done)
        if kind != "reasoning":
            item["status"] = "completed"
        return frames + self._sse(
            "response.output_item.done", {"output_index": len(self._items) - 1, "item": item}
        )

    def _where(self, content_index: int | None = None) -> dict[str, Any]:
        """The open item's `item_id` and `output_index` (and `content_index`)."""
        where: dict[str, Any] = {
            "item_id": self._items[-1]["id"],
            "output_index": len(self._items) - 1,
        }
        if content_index is not None:
            where["content_index"] = content_index
        return where

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        response = response_body(self._answered, self._request, status="in_progress", output=[])
        return self._sse("response.created", {"response": response}) + self._sse(
            "response.in_progress", {"response": response}
        )

    def _sse(self, name: str, data: dict[str, Any]) -> bytes:
        self._sequence += 1
        return sse(name, {"type": name, "sequence_number": self._sequence} | data)
