"""The neutral core: what every front door and every provider adapter translate
to and from (N front doors + M providers, never N x M). Nothing here imports
from the rest of the package.

- `content`: message parts (text, image, document, tool call and result, reasoning).
- `request`: `Request`, tools, output format, reasoning settings, native bodies.
- `completion`: `Completion` and the `StreamEvent`s of a streamed answer.
- `usage`: `Usage`.

`legacy` holds the types the code used before the core (`ChatResult` and its
stream events); they go once every module speaks the new ones.
"""

from model_router.domain.legacy import (
    FLUSH,
    ChatResult,
    Finish,
    FinishReason,
    Flush,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    UsageReport,
)
from model_router.domain.usage import Usage

__all__ = [
    "FLUSH",
    "ChatResult",
    "Finish",
    "FinishReason",
    "Flush",
    "ReasoningDelta",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "UsageReport",
]
