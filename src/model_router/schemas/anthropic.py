"""The Anthropic Messages request (`POST /v1/messages`), validated just enough
to translate it: the fields and block types of Anthropic's API as its SDK
defines them (`anthropic.types.MessageCreateParams`).

Every model allows unknown fields (`extra="allow"`), so a newer field (Claude
Code sends `context_management`, `output_config`, ...) passes validation and
reaches an Anthropic upstream in the native body. A content block of a type
not listed here (`search_result`, `server_tool_use`, `web_search_tool_result`,
`container_upload`, ...) validates as `OtherBlock`; a tool with a `type` other
than "custom" (a server tool such as `web_search_20250305`, or an
Anthropic-defined client tool such as `bash_20250124`) as `ServerTool`.

A string `content` (or `system`, or tool result `content`) is read as one
text block, so code past validation sees blocks only.

Unions are tagged by `type` through `schemas.tagged.by_type`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag

from model_router.schemas.tagged import TAG, error_path
from model_router.schemas.tagged import Open as _Open
from model_router.schemas.tagged import by_type as _by_type

__all__ = ["TAG", "error_path"]

ImageMediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
MAX_MESSAGES = 100_000  # Anthropic's own limit on `messages`


def _text_if_string(value: Any) -> Any:
    """A string stands for one text block."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if not isinstance(value, list):
        raise ValueError("must be a string or a list of content blocks")
    return value


class CacheControl(_Open):
    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] | None = None


# --- text and images -----------------------------------------------------------


class Base64ImageSource(_Open):
    type: Literal["base64"]
    media_type: ImageMediaType
    data: str = Field(min_length=1)


class URLSource(_Open):
    type: Literal["url"]
    url: str = Field(min_length=1)


class FileSource(_Open):
    type: Literal["file"]
    file_id: str = Field(min_length=1)


class _UnknownImageSource(_Open):
    type: Literal["base64", "url", "file"]  # fails, naming the types allowed


ImageSource = Annotated[
    Annotated[Base64ImageSource, Tag("~base64")]
    | Annotated[URLSource, Tag("~url")]
    | Annotated[FileSource, Tag("~file")]
    | Annotated[_UnknownImageSource, Tag("~unknown")],
    _by_type(frozenset({"base64", "url", "file"}), "~unknown"),
]


class TextBlock(_Open):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


class ImageBlock(_Open):
    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControl | None = None


# --- documents ---------------------------------------------------------------


class Base64PDFSource(_Open):
    type: Literal["base64"]
    media_type: Literal["application/pdf"]
    data: str = Field(min_length=1)


class PlainTextSource(_Open):
    type: Literal["text"]
    media_type: Literal["text/plain"]
    data: str


class _UnknownDocumentContent(_Open):
    type: Literal["text", "image"]


DocumentContent = Annotated[
    Annotated[TextBlock, Tag("~text")]
    | Annotated[ImageBlock, Tag("~image")]
    | Annotated[_UnknownDocumentContent, Tag("~unknown")],
    _by_type(frozenset({"text", "image"}), "~unknown"),
]


class ContentSource(_Open):
    """A document made of blocks (text, images) the client split itself."""

    type: Literal["content"]
    content: Annotated[list[DocumentContent], BeforeValidator(_text_if_string)]


class _UnknownDocumentSource(_Open):
    type: Literal["base64", "url", "text", "content", "file"]


DocumentSource = Annotated[
    Annotated[Base64PDFSource, Tag("~base64")]
    | Annotated[URLSource, Tag("~url")]
    | Annotated[PlainTextSource, Tag("~text")]
    | Annotated[ContentSource, Tag("~content")]
    | Annotated[FileSource, Tag("~file")]
    | Annotated[_UnknownDocumentSource, Tag("~unknown")],
    _by_type(frozenset({"base64", "url", "text", "content", "file"}), "~unknown"),
]


# --- other content blocks ------------------------------------------------------


class DocumentBlock(_Open):
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(_Open):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any]
    cache_control: CacheControl | None = None


class OtherBlock(_Open):
    """A block type this router does not translate; kept whole."""

    type: str


ToolResultContent = Annotated[
    Annotated[TextBlock, Tag("~text")]
    | Annotated[ImageBlock, Tag("~image")]
    | Annotated[DocumentBlock, Tag("~document")]
    | Annotated[OtherBlock, Tag("~other")],
    _by_type(frozenset({"text", "image", "document"}), "~other"),
]


class ToolResultBlock(_Open):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: Annotated[list[ToolResultContent], BeforeValidator(_text_if_string)] = Field(
        default_factory=list
    )
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(_Open):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(_Open):
    type: Literal["redacted_thinking"]
    data: str


BLOCK_TYPES = frozenset(
    {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}
)

ContentBlock = Annotated[
    Annotated[TextBlock, Tag("~text")]
    | Annotated[ImageBlock, Tag("~image")]
    | Annotated[DocumentBlock, Tag("~document")]
    | Annotated[ToolUseBlock, Tag("~tool_use")]
    | Annotated[ToolResultBlock, Tag("~tool_result")]
    | Annotated[ThinkingBlock, Tag("~thinking")]
    | Annotated[RedactedThinkingBlock, Tag("~redacted_thinking")]
    | Annotated[OtherBlock, Tag("~other")],
    _by_type(BLOCK_TYPES, "~other"),
]


class MessageParam(_Open):
    """A turn. "system" turns (text only) come from the beta
    `mid-conversation-system-2026-04-07`, which Claude Code uses for models
    it does not know."""

    role: Literal["user", "assistant", "system"]
    content: Annotated[list[ContentBlock], BeforeValidator(_text_if_string)]


# --- tools ---------------------------------------------------------------------


class CustomTool(_Open):
    """A tool the client runs, described by a JSON Schema."""

    type: Literal["custom"] | None = None
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,128}$")
    description: str | None = None
    input_schema: dict[str, Any]
    strict: bool | None = None
    cache_control: CacheControl | None = None


class ServerTool(_Open):
    """A tool Anthropic defines (`web_search_20250305`, `bash_20250124`, ...)."""

    type: str
    name: str = Field(min_length=1)
    cache_control: CacheControl | None = None


def _tool_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "~custom" if kind in (None, "custom") else "~server"


ToolParam = Annotated[
    Annotated[CustomTool, Tag("~custom")] | Annotated[ServerTool, Tag("~server")],
    Discriminator(_tool_kind),
]


class ToolChoiceAuto(_Open):
    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceAny(_Open):
    type: Literal["any"]
    disable_parallel_tool_use: bool | None = None


class ToolChoiceTool(_Open):
    type: Literal["tool"]
    name: str = Field(min_length=1)
    disable_parallel_tool_use: bool | None = None


class ToolChoiceNone(_Open):
    type: Literal["none"]


class _UnknownToolChoice(_Open):
    type: Literal["auto", "any", "tool", "none"]


ToolChoice = Annotated[
    Annotated[ToolChoiceAuto, Tag("~auto")]
    | Annotated[ToolChoiceAny, Tag("~any")]
    | Annotated[ToolChoiceTool, Tag("~tool")]
    | Annotated[ToolChoiceNone, Tag("~none")]
    | Annotated[_UnknownToolChoice, Tag("~unknown")],
    _by_type(frozenset({"auto", "any", "tool", "none"}), "~unknown"),
]


# --- thinking, output, metadata ----------------------------------------------------


class ThinkingEnabled(_Open):
    type: Literal["enabled"]
    budget_tokens: int = Field(ge=1)


class ThinkingDisabled(_Open):
    type: Literal["disabled"]


class ThinkingAdaptive(_Open):
    type: Literal["adaptive"]


class _UnknownThinking(_Open):
    type: Literal["enabled", "disabled", "adaptive"]


ThinkingConfig = Annotated[
    Annotated[ThinkingEnabled, Tag("~enabled")]
    | Annotated[ThinkingDisabled, Tag("~disabled")]
    | Annotated[ThinkingAdaptive, Tag("~adaptive")]
    | Annotated[_UnknownThinking, Tag("~unknown")],
    _by_type(frozenset({"enabled", "disabled", "adaptive"}), "~unknown"),
]


class JSONOutputFormat(_Open):
    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")


class OutputConfig(_Open):
    effort: str | None = None
    format: JSONOutputFormat | None = None


class Metadata(_Open):
    user_id: str | None = None


# --- requests ----------------------------------------------------------------------

SystemPrompt = Annotated[list[TextBlock], BeforeValidator(_text_if_string)]


class CountTokensRequest(_Open):
    """`POST /v1/messages/count_tokens`: the input part of a Messages request."""

    model: str = Field(min_length=1)
    messages: list[MessageParam] = Field(min_length=1, max_length=MAX_MESSAGES)
    system: SystemPrompt | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None


class MessagesRequest(CountTokensRequest):
    """`POST /v1/messages`."""

    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    metadata: Metadata | None = None
    output_config: OutputConfig | None = None
