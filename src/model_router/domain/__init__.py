"""The neutral core: what every front door and every provider adapter translate
to and from (N front doors + M providers, never N x M). Nothing here imports
from the rest of the package.

- `content`: message parts (text, image, document, tool call and result, reasoning).
- `request`: `Request`, tools, output format, reasoning settings, native bodies.
- `completion`: `Completion`, the `StreamEvent`s of a streamed answer, and the
  `Accumulator` that turns the one into the other.
- `usage`: `Usage`.
- `embeddings`: `EmbeddingRequest` and `Embeddings`, the embeddings call.
"""

from model_router.domain.completion import (
    CONTENT_EVENTS,
    FLUSH,
    Accumulator,
    Completion,
    Finish,
    FinishReason,
    Flush,
    NativeFrame,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoningBlock,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.content import ToolCall
from model_router.domain.usage import Usage

__all__ = [
    "CONTENT_EVENTS",
    "FLUSH",
    "Accumulator",
    "Completion",
    "Finish",
    "FinishReason",
    "Flush",
    "NativeFrame",
    "ReasoningDelta",
    "ReasoningSignature",
    "RedactedReasoningBlock",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "UsageReport",
]
