"""A streamed Response's text deltas are framed from bytes made once per
message item: each frame must be the very bytes the general framing (`sse`)
makes of the same event, in every item of a turn that changes kind."""

from __future__ import annotations

from model_router.domain import completion as c
from model_router.domain.content import Reasoning, Text, ToolCall
from model_router.domain.usage import Usage
from model_router.frontdoors.base import sse
from tests.unit.test_responses_door_render import parse_sse, stream

USAGE = Usage(input_tokens=10, output_tokens=9)
TEXTS = ['She said "no".', " Ünïcode ✓\n", "\\ back\tslash </script>", "", " end"]
EVENTS: list[c.StreamEvent] = [
    c.ReasoningDelta("think"),
    *[c.TextDelta(t) for t in TEXTS],
    c.ToolCallDelta(0, id="call_a", name="read", arguments="{}"),
    c.TextDelta("after "),
    c.TextDelta("the call"),
    c.Finish("stop"),
    c.UsageReport(USAGE),
]
COMPLETION = c.Completion(
    [
        Reasoning("think"),
        Text("".join(TEXTS)),
        ToolCall("call_a", "read", "{}"),
        Text("after the call"),
    ],
    "stop",
    USAGE,
)


def test_text_deltas_are_the_bytes_the_general_framing_makes() -> None:
    body = stream(EVENTS, COMPLETION)
    frames = body.split(b"\n\n")[:-1]
    events = parse_sse(body)  # valid, numbered, in the spec's and the SDK's shapes
    deltas = [(frame, data) for frame, (name, data) in zip(frames, events, strict=True)
              if name == "response.output_text.delta"]  # fmt: skip
    assert [data["delta"] for _, data in deltas] == [*TEXTS, "after ", "the call"]
    for frame, data in deltas:
        assert frame + b"\n\n" == sse("response.output_text.delta", data)
    # the two messages are items of their own, each delta naming its item
    first, second = {d["item_id"] for _, d in deltas[:5]}, {d["item_id"] for _, d in deltas[5:]}
    assert len(first) == len(second) == 1 and first != second
    assert [d["output_index"] for _, d in deltas] == [1] * 5 + [3] * 2
