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
- `code`:   yes when the prompt looks like code (a fence, a code keyword at
            the start of a line, a line ending in `;`, `{` or `}`)
- `turns`:  1 | 2-5 | 6+ (messages other than system ones)
- `script`: latin | cjk | cyrillic | arabic | other: the script most letters
            of the last user message are in (Unicode ranges)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from model_router.domain.content import Image, Message, Text, ToolResult
from model_router.domain.request import Request

Feature = Literal["size", "tools", "images", "output", "code", "turns", "script"]
FEATURES: tuple[Feature, ...] = ("size", "tools", "images", "output", "code", "turns", "script")

CHARS_PER_TOKEN = 4
TOKENS_PER_IMAGE = 765
SIZE_BUCKETS = ((256, "xs"), (1024, "s"), (4096, "m"), (16384, "l"))
CODE_SAMPLE = 16_000  # characters of the prompt searched for code
SCRIPT_SAMPLE = 2_000  # characters of the last user message whose script is counted

_CODE = re.compile(
    r"```|^[ \t]*(?:def |class |import |from \S+ import |function |const |let |var |"
    r"public |private |#include|package |fn |SELECT |CREATE TABLE )|[;{}][ \t]*$",
    re.MULTILINE,
)
_SCRIPTS = (
    ("cjk", re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")),
    ("cyrillic", re.compile("[\u0400-\u04ff\u0500-\u052f]")),
    ("arabic", re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")),
    ("latin", re.compile("[A-Za-z\u00c0-\u024f]")),
)


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
    """The script most letters of `text` are in; "other" when it has no letters."""
    sample = text[-SCRIPT_SAMPLE:]
    if sample.isascii():
        return "latin" if _SCRIPTS[3][1].search(sample) else "other"
    best, most = "other", 0
    for name, pattern in _SCRIPTS:
        count = len(pattern.findall(sample))
        if count > most:
            best, most = name, count
    return best


def _walk(message: Message) -> tuple[int, bool, list[str]]:
    """(characters, any image, texts) of one message."""
    chars, image, texts = 0, False, []
    for part in message.parts:
        if isinstance(part, Text):
            chars += len(part.text)
            texts.append(part.text)
        elif isinstance(part, Image):
            image = True
        elif isinstance(part, ToolResult):
            for inner in part.content:
                if isinstance(inner, Text):
                    chars += len(inner.text)
                elif isinstance(inner, Image):
                    image = True
    return chars, image, texts


def features_of(request: Request) -> Features:
    """The request's features; pure, no I/O."""
    chars, images, turns = 0, 0, 0
    sample: list[str] = []
    sampled = 0
    last_user = ""
    for message in request.messages:
        n, image, texts = _walk(message)
        chars += n
        images += image
        if message.role != "system":
            turns += 1
        if message.role == "user" and texts:
            last_user = texts[-1]
        if sampled < CODE_SAMPLE:
            for text in texts:
                sample.append(text[: CODE_SAMPLE - sampled])
                sampled += len(sample[-1])
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
        code=_CODE.search("\n".join(sample)) is not None,
        turns=turns_bucket(turns),
        script=script_of(last_user),
        prompt_tokens=tokens,
    )
