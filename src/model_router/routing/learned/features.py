"""A request's task class: cheap features of the neutral `domain.Request`.

No model, no tokenizer, no download: a few counts over the messages, with
regular expressions (C speed) over bounded samples of the text, so that a
long prompt costs no more than a short one. docs/learned-routing.md lists
each feature and its values:

- `size`:   estimated prompt tokens (4 characters a token, 765 per image):
            xs < 256 <= s < 1k <= m < 4k <= l < 16k <= xl
- `tools`:  yes when the request declares tools
- `images`: yes when a message (or a tool result) holds an image
- `output`: text | json (any JSON object) | schema (JSON matching a schema)
- `code`:   yes when the conversation's last 4,000 characters look like
            code: a fence, or among their last 100 lines one that starts with
            a code keyword (`def `, `class `, `import `, `function `, `const `,
            `#include`, `SELECT `, ...), or two that end in `;`, `{` or `}`
- `turns`:  1 | 2-5 | 6+ (messages other than system ones)
- `script`: latin | cjk | cyrillic | arabic | other: the script most letters
            of the last 64 characters of the last user message are in
            (Unicode ranges; Hangul and kana count as CJK)
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Literal

from model_router.domain.content import Image, Text, ToolResult
from model_router.domain.request import Request

Feature = Literal["size", "tools", "images", "output", "code", "turns", "script"]
FEATURES: tuple[Feature, ...] = ("size", "tools", "images", "output", "code", "turns", "script")

CHARS_PER_TOKEN = 4
TOKENS_PER_IMAGE = 765
SIZE_BUCKETS = ((256, "xs"), (1024, "s"), (4096, "m"), (16384, "l"))
CODE_SAMPLE = 4_000  # the conversation's last characters searched for code
CODE_LINES = 100  # of which at most this many lines are looked at one by one
SCRIPT_SAMPLE = 64  # the last user message's last characters whose script is counted

_CODE_STARTS = (
    "def ",
    "class ",
    "import ",
    "function ",
    "const ",
    "let ",
    "var ",
    "public ",
    "private ",
    "#include",
    "package ",
    "fn ",
    "SELECT ",
    "CREATE TABLE ",
    "#!/",
)
_CODE_ENDS = (";", "{", "}")
# Script by code point: the ranges' bounds, and the script of each gap between them.
_BOUNDS = (
    0x41, 0x5B, 0x61, 0x7B, 0xC0, 0x250, 0x400, 0x530, 0x600, 0x700, 0x750, 0x780,
    0x8A0, 0x900, 0x3040, 0x3100, 0x3400, 0x4DC0, 0x4E00, 0xA000, 0xAC00, 0xD7B0,
    0xF900, 0xFB00,
)  # fmt: skip
_GAPS = (
    "", "latin", "", "latin", "", "latin", "", "cyrillic", "", "arabic", "", "arabic", "",
    "arabic", "", "cjk", "", "cjk", "", "cjk", "", "cjk", "", "cjk", "",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Features:
    size: str
    tools: bool
    images: bool
    output: str
    code: bool
    turns: str
    script: str
    prompt_tokens: int

    def value(self, name: Feature) -> str:
        raw = getattr(self, name)
        return ("yes" if raw else "no") if isinstance(raw, bool) else str(raw)

    def task_class(self, features: tuple[Feature, ...] = FEATURES) -> str:
        """The class name: `name=value` of the chosen features, comma-separated."""
        return ",".join(f"{name}={self.value(name)}" for name in features)

    def values(self) -> tuple[str, bool, bool, str, bool, str, str]:
        """The class-defining values (not the token count): a cache key."""
        return (
            self.size,
            self.tools,
            self.images,
            self.output,
            self.code,
            self.turns,
            self.script,
        )

    def as_dict(self) -> dict[str, str | int]:
        """What the request detail shows."""
        out: dict[str, str | int] = {name: self.value(name) for name in FEATURES}
        out["prompt_tokens"] = self.prompt_tokens
        return out


def size_bucket(tokens: int) -> str:
    for bound, name in SIZE_BUCKETS:
        if tokens < bound:
            return name
    return "xl"


def turns_bucket(turns: int) -> str:
    return "1" if turns <= 1 else "2-5" if turns <= 5 else "6+"


def script_of(text: str) -> str:
    """The script most letters of the end of `text` are in; "other" when it has
    no letters of the four scripts."""
    sample = text[-SCRIPT_SAMPLE:]
    if sample.isascii():  # the common case: one C call
        return "latin" if sample.lower() != sample.upper() else "other"
    counts: dict[str, int] = {}
    for char in sample:
        script = _GAPS[bisect_right(_BOUNDS, ord(char))]
        if script:
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "other"


def looks_like_code(text: str) -> bool:
    """A fence, or a line that starts with a code keyword or ends in `;`, `{`
    or `}` (looked at over the last CODE_LINES lines)."""
    if "```" in text:
        return True
    ends = 0
    for line in text.rsplit("\n", CODE_LINES):
        stripped = line.strip()
        if stripped.startswith(_CODE_STARTS):
            return True
        if stripped.endswith(_CODE_ENDS):
            ends += 1
            if ends >= 2:
                return True
    return False


def _tail(texts: list[str]) -> str:
    """The last CODE_SAMPLE characters of the conversation."""
    out: list[str] = []
    size = 0
    for text in reversed(texts):
        out.append(text[-(CODE_SAMPLE - size) :])
        size += len(out[-1])
        if size >= CODE_SAMPLE:
            break
    return "\n".join(reversed(out))


def features_of(request: Request) -> Features:
    """The request's features; pure, no I/O."""
    chars = images = turns = 0
    texts: list[str] = []
    last_user = ""
    for message in request.messages:
        if message.role != "system":
            turns += 1
        for part in message.parts:
            if isinstance(part, Text):
                texts.append(part.text)
                chars += len(part.text)
                if message.role == "user":
                    last_user = part.text
            elif isinstance(part, Image):
                images += 1
            elif isinstance(part, ToolResult):
                for inner in part.content:
                    if isinstance(inner, Text):
                        texts.append(inner.text)
                        chars += len(inner.text)
                    elif isinstance(inner, Image):
                        images += 1
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description or "") + 64
    tokens = -(-chars // CHARS_PER_TOKEN) + TOKENS_PER_IMAGE * images
    fmt = request.output_format
    output = "text" if fmt is None or fmt.type == "text" else "json"
    if fmt is not None and fmt.type == "json_schema":
        output = "schema"
    return Features(
        size=size_bucket(tokens),
        tools=bool(request.tools),
        images=images > 0,
        output=output,
        code=looks_like_code(_tail(texts)),
        turns=turns_bucket(turns),
        script=script_of(last_user),
        prompt_tokens=tokens,
    )
