"""The Anthropic Messages API (`POST /v1/messages`) as a front door.

Request -> neutral `Request` (`to_request`):
- `system` (a string or text blocks) -> one "system" message first, a `Text`
  part per block; a "system" turn among `messages` (the beta
  `mid-conversation-system-2026-04-07`, which Claude Code sends for models it
  does not know) -> a "system" message in place.
- A user turn's `tool_result` blocks -> a "tool" message of `ToolResult`s,
  placed before the rest of that turn (a user message, if anything is left).
  A tool result's blocks the core does not model (`search_result`,
  `tool_reference`, a file image) become the text of their JSON.
- `thinking` / `redacted_thinking` -> `Reasoning` (with its signature) /
  `RedactedReasoning`; `tool_use` -> `ToolCall` (input as a JSON string);
  images (base64, URL) -> `Image`; documents (base64 or URL PDF, plain text,
  text-only content) -> `Document`, `context` and `citations` kept in its
  `extra`. Any other block (file sources, server tool blocks, unknown types)
  -> `Opaque`, which only an Anthropic upstream can take.
- `cache_control` stays on every part and tool that has it.
- Custom tools -> `Tool`; other tools (server tools, Anthropic-defined client
  tools) -> `Tool.builtin`. `tool_choice`: auto, none, any -> "required",
  tool -> `NamedTool`; `disable_parallel_tool_use` -> `parallel_tool_calls`
  False.
- `thinking` -> `ReasoningConfig.mode` (+ `budget_tokens`),
  `output_config.effort` -> `ReasoningConfig.effort`,
  `output_config.format` -> `OutputFormat` json_schema; `max_tokens`,
  `temperature`, `top_p`, `top_k`, `stop_sequences`, `stream`, and
  `metadata.user_id` -> `user`.
- The body as received is kept as `native` (with `anthropic-version`, 2023-06-01
  when missing, and `anthropic-beta` when sent), so an Anthropic upstream gets
  everything; hints the core cannot carry (`context_management`, top-level
  `cache_control`, `service_tier`, `container`, citations on text, ...) live
  only there. Nothing is recorded in `dropped` here: the adapters do that.

The answer is rendered by `anthropic_render` (whole) and `anthropic_stream`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel

from model_router.domain.completion import Completion
from model_router.domain.content import (
    Document,
    Image,
    Json,
    Message,
    Opaque,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import (
    FrontDoor,
    NamedTool,
    NativeBody,
    OutputFormat,
    ReasoningConfig,
    Request,
    Tool,
    ToolChoice,
)
from model_router.errors import InvalidRequest, RouterError
from model_router.frontdoors.anthropic_render import error_json, message_json
from model_router.frontdoors.anthropic_stream import MessagesStreamWriter
from model_router.frontdoors.base import Answered, validate
from model_router.jsonutil import dumps
from model_router.schemas import anthropic as wire

DEFAULT_VERSION = "2023-06-01"
PROTOCOL_HEADERS = ("anthropic-version", "anthropic-beta")


class MessagesDoor:
    """`POST /v1/messages`, Anthropic's Messages API."""

    name: FrontDoor = "messages"

    def to_request(self, body: dict[str, Any], headers: Mapping[str, str]) -> Request:
        parsed = validate(wire.MessagesRequest, body)
        return Request(
            model=parsed.model,
            messages=translate_messages(parsed),
            front_door=self.name,
            stream=bool(parsed.stream),
            max_output_tokens=parsed.max_tokens,
            temperature=parsed.temperature,
            top_p=parsed.top_p,
            top_k=parsed.top_k,
            stop=list(parsed.stop_sequences or []),
            user=parsed.metadata.user_id if parsed.metadata else None,
            tools=[translate_tool(t) for t in parsed.tools or []],
            tool_choice=translate_tool_choice(parsed.tool_choice),
            parallel_tool_calls=_parallel(parsed.tool_choice),
            output_format=_output_format(parsed.output_config),
            reasoning=_reasoning(parsed),
            native=NativeBody("anthropic", body, protocol_headers(headers)),
        )

    def render(self, completion: Completion, answered: Answered, request: Request) -> bytes:
        return dumps(message_json(completion, answered))

    def stream_writer(self, request: Request, answered: Answered) -> MessagesStreamWriter:
        return MessagesStreamWriter(answered)

    def error_body(self, error: RouterError) -> bytes:
        return dumps(error_json(error))


def protocol_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """`anthropic-version` (defaulted) and `anthropic-beta`, found in any case;
    a header sent more than once is joined with commas."""
    found: dict[str, list[str]] = {}
    for key, value in headers.items():
        if key.lower() in PROTOCOL_HEADERS:
            found.setdefault(key.lower(), []).append(value)
    joined = {k: ",".join(v) for k, v in found.items()}
    return {"anthropic-version": DEFAULT_VERSION} | joined


# --- messages --------------------------------------------------------------------


def translate_messages(request: wire.CountTokensRequest) -> list[Message]:
    out: list[Message] = []
    if request.system:
        out.append(Message("system", [Text(b.text, _cache(b)) for b in request.system]))
    for i, turn in enumerate(request.messages):
        where = f"messages.{i}.content"
        if turn.role != "user":
            parts = [_part(b, f"{where}.{j}", turn.role) for j, b in enumerate(turn.content)]
            out.append(Message(turn.role, parts))
            continue
        results: list[Part] = []
        rest: list[Part] = []
        for j, block in enumerate(turn.content):
            if isinstance(block, wire.ToolResultBlock):
                results.append(_tool_result(block))
            else:
                rest.append(_part(block, f"{where}.{j}", turn.role))
        if results:
            out.append(Message("tool", results))
        if rest or not results:
            out.append(Message("user", rest))
    return out


def _part(block: wire.ContentBlock, where: str, role: str) -> Part:
    if isinstance(block, wire.TextBlock):
        return Text(block.text, _cache(block))
    if role == "system":
        raise InvalidRequest(f"{where}: a system turn holds text blocks only", param=where)
    if isinstance(block, wire.ImageBlock):
        return _image(block)
    if isinstance(block, wire.DocumentBlock):
        return _document(block)
    if isinstance(block, wire.ToolUseBlock):
        if role != "assistant":
            raise InvalidRequest(
                f"{where}: tool_use blocks belong in an assistant turn", param=where
            )
        arguments = orjson.dumps(block.input).decode()
        return ToolCall(block.id, block.name, arguments, _cache(block))
    if isinstance(block, wire.ThinkingBlock):
        return Reasoning(block.thinking, block.signature)
    if isinstance(block, wire.RedactedThinkingBlock):
        return RedactedReasoning(block.data)
    if isinstance(block, wire.ToolResultBlock):
        raise InvalidRequest(f"{where}: tool_result blocks belong in a user turn", param=where)
    return _opaque(block)


def _image(block: wire.ImageBlock) -> Image | Opaque:
    source = block.source
    if isinstance(source, wire.Base64ImageSource):
        return Image(data=source.data, media_type=source.media_type, cache_control=_cache(block))
    if isinstance(source, wire.URLSource):
        return Image(url=source.url, cache_control=_cache(block))
    return _opaque(block)  # a file id only Anthropic can resolve


def _document(block: wire.DocumentBlock) -> Document | Opaque:
    source = block.source
    extra: Json = {}
    if block.context is not None:
        extra["context"] = block.context
    if block.citations is not None:
        extra["citations"] = block.citations
    doc = Document("application/pdf", title=block.title, extra=extra, cache_control=_cache(block))
    if isinstance(source, wire.Base64PDFSource):
        doc.data = source.data
    elif isinstance(source, wire.URLSource):
        doc.url = source.url
    elif isinstance(source, wire.PlainTextSource):
        doc.media_type, doc.text = "text/plain", source.data
    elif isinstance(source, wire.ContentSource) and all(
        isinstance(b, wire.TextBlock) for b in source.content
    ):
        doc.media_type = "text/plain"
        doc.text = "\n".join(b.text for b in source.content if isinstance(b, wire.TextBlock))
    else:
        return _opaque(block)  # a file id, or content with images
    return doc


def _tool_result(block: wire.ToolResultBlock) -> ToolResult:
    content: list[Text | Image | Document | Opaque] = []
    for item in block.content:
        part = _part(item, "", "user") if not isinstance(item, wire.OtherBlock) else _opaque(item)
        if isinstance(part, Text | Image | Document):
            content.append(part)
        elif isinstance(part, Opaque):
            content.append(Text(orjson.dumps(part.raw).decode()))
    return ToolResult(block.tool_use_id, content, bool(block.is_error), _cache(block))


def _opaque(block: BaseModel) -> Opaque:
    raw = block.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return Opaque("anthropic", str(raw.get("type", "unknown")), raw)


def _cache(block: BaseModel) -> Json | None:
    control = getattr(block, "cache_control", None)
    return control.model_dump(exclude_none=True) if control is not None else None


# --- tools and settings ----------------------------------------------------------


def translate_tool(tool: wire.CustomTool | wire.ServerTool) -> Tool:
    if isinstance(tool, wire.CustomTool):
        return Tool(
            name=tool.name,
            description=tool.description,
            parameters=tool.input_schema,
            strict=tool.strict,
            cache_control=_cache(tool),
        )
    return Tool(name=tool.name, cache_control=_cache(tool), builtin=_opaque(tool))


def translate_tool_choice(choice: wire.ToolChoice | None) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, wire.ToolChoiceTool):
        return NamedTool(choice.name)
    if isinstance(choice, wire.ToolChoiceAny):
        return "required"
    if isinstance(choice, wire.ToolChoiceNone):
        return "none"
    return "auto"


def _parallel(choice: wire.ToolChoice | None) -> bool | None:
    disabled = getattr(choice, "disable_parallel_tool_use", None)
    return False if disabled else None


def _output_format(config: wire.OutputConfig | None) -> OutputFormat | None:
    if config is None or config.format is None:
        return None
    return OutputFormat("json_schema", schema=config.format.schema_)


def _reasoning(request: wire.MessagesRequest) -> ReasoningConfig | None:
    thinking = request.thinking
    effort = request.output_config.effort if request.output_config else None
    if thinking is None and effort is None:
        return None
    return ReasoningConfig(
        effort=effort,
        budget_tokens=thinking.budget_tokens
        if isinstance(thinking, wire.ThinkingEnabled)
        else None,
        mode=thinking.type if thinking is not None else None,
    )


# --- count_tokens ------------------------------------------------------------------

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 1_600
PDF_PAGE_TOKENS = 2_000
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def count_tokens(body: dict[str, Any]) -> dict[str, int]:
    """`POST /v1/messages/count_tokens` for a model Anthropic does not serve:
    an estimate, `{"input_tokens": N}`, by this rule:

    - 4 characters a token (rounded up) over the text of `system`, of every
      message (text, thinking, tool calls' names and JSON input, tool results,
      plain-text documents, the JSON of blocks the core does not model) and of
      the tools (name, description, JSON of the input schema; the JSON of a
      server tool);
    - 1,600 tokens an image (Anthropic's cost of an image at its largest
      size, about 1.15 megapixels);
    - 2,000 tokens a PDF page (Anthropic quotes 1,500 to 3,000), pages counted
      in a base64 PDF; a PDF by URL counts as one page.
    """
    parsed = validate(wire.CountTokensRequest, body)
    chars = fixed = 0
    for tool in parsed.tools or []:
        if isinstance(tool, wire.CustomTool):
            chars += len(tool.name) + len(tool.description or "")
            chars += len(orjson.dumps(tool.input_schema))
        else:
            chars += len(orjson.dumps(tool.model_dump(mode="json", exclude_none=True)))
    for message in translate_messages(parsed):  # `system` included
        for part in message.parts:
            more_chars, more_fixed = _part_size(part)
            chars += more_chars
            fixed += more_fixed
    return {"input_tokens": -(-chars // CHARS_PER_TOKEN) + fixed}


def _part_size(part: Part) -> tuple[int, int]:
    """(characters, fixed tokens) a part costs."""
    if isinstance(part, Text | Reasoning):
        return len(part.text), 0
    if isinstance(part, ToolCall):
        return len(part.name) + len(part.arguments), 0
    if isinstance(part, ToolResult):
        sizes = [_part_size(p) for p in part.content]
        return sum(c for c, _ in sizes), sum(f for _, f in sizes)
    if isinstance(part, Image):
        return 0, IMAGE_TOKENS
    if isinstance(part, Document):
        if part.text is not None:
            return len(part.text), 0
        return 0, PDF_PAGE_TOKENS * _pdf_pages(part.data)
    if isinstance(part, RedactedReasoning):
        return len(part.data), 0
    return len(orjson.dumps(part.raw)), 0


def _pdf_pages(data: str | None) -> int:
    if not data:
        return 1
    try:
        pdf = base64.b64decode(data, validate=False)
    except ValueError:
        return 1
    return max(1, len(_PDF_PAGE.findall(pdf)))
