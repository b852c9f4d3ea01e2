"""The provider-neutral answer, whole (`Completion`) or streamed (`StreamEvent`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from model_router.domain.content import OutputPart, Reasoning, RedactedReasoning, Text, ToolCall
from model_router.domain.request import NativeBody, WireProtocol
from model_router.domain.usage import Usage

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
"""Why the model stopped, in OpenAI's words; each protocol maps through one table.
`Completion.stop_sequence` tells a stop on a stop sequence apart."""


@dataclass(slots=True)
class Completion:
    """A finished, non-streamed answer: its parts in the order the model made them."""

    parts: list[OutputPart]
    finish_reason: FinishReason
    usage: Usage
    stop_sequence: str | None = None
    refusal: str | None = None
    upstream_id: str | None = None
    upstream_model: str | None = None
    native: NativeBody | None = None  # the upstream's own body, for a front door of its protocol

    # Read for the answer and again for its row: plain loops, no comprehension frames.
    @property
    def text(self) -> str | None:
        texts: list[str] = []
        for part in self.parts:
            if isinstance(part, Text):
                texts.append(part.text)
        if not texts:
            return None
        return texts[0] if len(texts) == 1 else "".join(texts)

    @property
    def reasoning_text(self) -> str | None:
        texts: list[str] = []
        for part in self.parts:
            if isinstance(part, Reasoning):
                texts.append(part.text)
        return "".join(texts) or None

    @property
    def tool_calls(self) -> list[ToolCall]:
        calls: list[ToolCall] = []
        for part in self.parts:
            if isinstance(part, ToolCall):
                calls.append(part)
        return calls


# Streaming: adapters yield these, in order; each front door renders them in
# its own wire format, and the service accumulates them into a `Completion`.


@dataclass(slots=True)
class TextDelta:
    text: str


@dataclass(slots=True)
class ReasoningDelta:
    text: str


@dataclass(slots=True)
class ReasoningSignature:
    """The signature that closes a thinking block (Anthropic's `signature_delta`)."""

    signature: str


@dataclass(slots=True)
class RedactedReasoningBlock:
    data: str


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of one tool call. `index` counts tool calls only, from 0.

    `id` and `name` are set on the first fragment of a call, `arguments` is a
    piece of its JSON string.
    """

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None


@dataclass(slots=True)
class UsageReport:
    """Cumulative usage so far; the last one seen is the call's usage."""

    usage: Usage


@dataclass(slots=True)
class NativeFrame:
    """One upstream SSE frame as received, for a front door of the same protocol
    (which sends these instead of rendering the parsed events). Adapters emit it
    only when the request came with a `native` body of their protocol, before
    the parsed events of that frame."""

    protocol: WireProtocol
    frame: bytes


@dataclass(slots=True)
class Flush:
    """Not an event: the upstream's latest network read is used up. The front
    door sends the frames made since the last one in a single write."""


FLUSH = Flush()

StreamEvent = (
    TextDelta
    | ReasoningDelta
    | ReasoningSignature
    | RedactedReasoningBlock
    | ToolCallDelta
    | Finish
    | UsageReport
    | NativeFrame
    | Flush
)

CONTENT_EVENTS = (TextDelta, ReasoningDelta, RedactedReasoningBlock, ToolCallDelta)
"""The events that mean content has begun (a stream is committed after one)."""


class Accumulator:
    """Collects a stream's events into the `Completion` that is priced and logged.

    Text and reasoning pieces are joined once, when their part ends (a long
    answer is many thousands of pieces)."""

    __slots__ = ("_calls", "_kind", "_parts", "_pieces", "finish", "stop_sequence", "usage")

    def __init__(self) -> None:
        self._parts: list[OutputPart] = []
        self._pieces: list[str] = []
        self._kind: type[Text] | type[Reasoning] | None = None  # the part being written
        self._calls: dict[int, ToolCall] = {}
        self.finish: FinishReason = "stop"
        self.stop_sequence: str | None = None
        self.usage = Usage()

    def feed(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            if self._kind is not Text:
                self._close()
                self._kind = Text
            self._pieces.append(event.text)
        elif isinstance(event, NativeFrame):  # every other event of a native stream
            return
        elif isinstance(event, ReasoningDelta):
            if self._kind is not Reasoning:
                self._close()
                self._kind = Reasoning
            self._pieces.append(event.text)
        elif isinstance(event, ToolCallDelta):
            call = self._calls.get(event.index)
            if call is None:
                self._close()
                call = self._calls[event.index] = ToolCall(id=event.id or "", name="", arguments="")
                self._parts.append(call)
            if event.id:
                call.id = event.id
            if event.name:
                call.name = event.name
            call.arguments += event.arguments
        elif isinstance(event, UsageReport):
            self.usage = event.usage
        elif isinstance(event, Finish):
            self.finish = event.reason
            self.stop_sequence = event.stop_sequence
        elif isinstance(event, ReasoningSignature):
            if self._kind is Reasoning:
                self._close(event.signature)
            else:
                self._close()
                self._parts.append(Reasoning("", event.signature))
        elif isinstance(event, RedactedReasoningBlock):
            self._close()
            self._parts.append(RedactedReasoning(event.data))

    def _part(self, signature: str | None = None) -> OutputPart | None:
        if self._kind is Text:
            return Text("".join(self._pieces))
        if self._kind is Reasoning:
            return Reasoning("".join(self._pieces), signature)
        return None

    def _close(self, signature: str | None = None) -> None:
        if (part := self._part(signature)) is not None:
            self._parts.append(part)
            self._pieces = []
            self._kind = None

    def completion(self) -> Completion:
        """What was received so far (tool calls in the order they began)."""
        parts = list(self._parts)
        if (part := self._part()) is not None:
            parts.append(part)
        return Completion(
            parts=parts,
            finish_reason=self.finish,
            usage=self.usage,
            stop_sequence=self.stop_sequence,
        )
