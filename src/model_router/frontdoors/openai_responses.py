"""The OpenAI Responses API (`POST /v1/responses`) as a front door.

Request -> neutral `Request` (`to_request`):
- `instructions` -> one "system" message first; "system" and "developer"
  messages -> "system" messages in place (text only).
- Items in order. Whatever the model made earlier (`reasoning`, assistant
  `message`, `function_call`, and item types the core does not model whose
  type ends in `_call`) joins the assistant message just before it, so one
  assistant turn holds its thinking, text and tool calls together (as
  Anthropic needs them); `function_call_output`s join one "tool" message.
- `function_call` -> `ToolCall` (its `call_id` is the id);
  `function_call_output` -> `ToolResult` (a string output is one text part).
- `reasoning`: its text is the full reasoning `content` if sent, else the
  summaries joined; with `encrypted_content` too -> `Reasoning` with it as the
  signature (so an Anthropic thinking signature we rendered there comes back);
  `encrypted_content` alone -> `RedactedReasoning`; neither -> dropped.
- Parts: `input_text` / `output_text` -> `Text`; a `refusal` sent back ->
  `Text`; `input_image` by URL or data URL -> `Image`; `input_file` inline or
  by URL -> `Document` (a `text/*` data URL decoded to plain text); anything
  by `file_id`, and part or item types the core does not model -> `Opaque`
  (an OpenAI upstream only).
- Function tools -> `Tool`. OpenAI's built-in tools run only on OpenAI's own
  Responses API, and every deployment here is reached through the core
  (Chat Completions for OpenAI), so none can run them. Two are what the Codex
  CLI always sends, and are let through: `web_search` (and its dated and
  preview variants), a tool the model may use but need not, is dropped and
  listed in `Request.dropped`; a `namespace` (a named group of function
  tools) is flattened into its function tools, their names unchanged (so
  nothing needs mapping back; a name given twice is a 400). Every other
  built-in tool (`file_search`, `mcp`, `code_interpreter`, `custom`, ...) is
  a 400 naming it. `tool_choice`: the modes as they are; a function or custom
  tool -> `NamedTool`; a built-in tool is a 400; `allowed_tools` -> its mode.
- `text.format` -> `OutputFormat`; `reasoning.effort` -> `ReasoningConfig`;
  `max_output_tokens`, `temperature`, `top_p`, `user`, `parallel_tool_calls`,
  `stream`.
- `native` is None: an OpenAI deployment gets the call translated to Chat
  Completions like any other. The body as received is `client_body`, which
  the answer echoes and which the service stores for `previous_response_id`.
  `item_reference`s must be resolved first (`conversation_items`): a 400
  otherwise.

The answer is rendered by `responses_render` (whole) and `responses_stream`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any, Literal

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
    OutputFormat,
    ReasoningConfig,
    Request,
    Tool,
    ToolChoice,
)
from model_router.errors import InvalidRequest, RouterError, UnsupportedFeature
from model_router.frontdoors.base import Answered, validate
from model_router.frontdoors.responses_render import error_json, response_json
from model_router.frontdoors.responses_stream import ResponsesStreamWriter
from model_router.jsonutil import dumps
from model_router.schemas import responses as wire

PROTOCOL = "openai"


class ResponsesDoor:
    """`POST /v1/responses`, OpenAI's Responses API."""

    name: FrontDoor = "responses"

    def __init__(self, keep: Callable[[Request, Json], None] | None = None) -> None:
        self._keep = keep  # given each final `Response` (whole or streamed), to store it

    def to_request(self, body: dict[str, Any], headers: Mapping[str, str]) -> Request:
        parsed = validate(wire.ResponsesRequest, body)
        messages = [Message("system", [Text(parsed.instructions)])] if parsed.instructions else []
        dropped: list[str] = []
        tools = translate_tools(parsed.tools or [], dropped)
        if isinstance(parsed.tool_choice, wire.ToolChoiceBuiltin):
            kind = parsed.tool_choice.type
            raise UnsupportedFeature(
                f"tool_choice: the built-in tool '{kind}' runs only on OpenAI's own "
                "Responses API, which no deployment of this router reaches.",
                param="tool_choice",
            )
        return Request(
            model=parsed.model,
            messages=messages + translate_items(parsed.input),
            front_door=self.name,
            stream=bool(parsed.stream),
            max_output_tokens=parsed.max_output_tokens,
            temperature=parsed.temperature,
            top_p=parsed.top_p,
            user=parsed.user,
            tools=tools,
            tool_choice=translate_tool_choice(parsed.tool_choice),
            parallel_tool_calls=parsed.parallel_tool_calls,
            output_format=_output_format(parsed.text),
            reasoning=_reasoning(parsed.reasoning),
            client_body=body,
            dropped=dropped,
        )

    def render(self, completion: Completion, answered: Answered, request: Request) -> bytes:
        """The `Response`; `request` (the client's) fills the fields that echo it."""
        response = response_json(completion, answered, request)
        if self._keep is not None:
            self._keep(request, response)
        return dumps(response)

    def stream_writer(self, request: Request, answered: Answered) -> ResponsesStreamWriter:
        return ResponsesStreamWriter(request, answered, self._keep)

    def error_body(self, error: RouterError) -> bytes:
        return dumps(error_json(error))


# --- items -----------------------------------------------------------------------


def translate_items(items: list[wire.InputItem]) -> list[Message]:
    out: list[Message] = []
    for i, item in enumerate(items):
        where = f"input.{i}"
        if isinstance(item, wire.MessageItem):
            _message(out, item, where)
        elif isinstance(item, wire.FunctionCallItem):
            _join(out, "assistant", ToolCall(item.call_id, item.name, item.arguments))
        elif isinstance(item, wire.FunctionCallOutputItem):
            _join(out, "tool", _tool_result(item))
        elif isinstance(item, wire.ReasoningItem):
            part = _reasoning_part(item)
            if part is not None:
                _join(out, "assistant", part)
        elif isinstance(item, wire.ItemReference):
            raise InvalidRequest(
                f"{where}: item_reference '{item.id}' names no item of the previous response",
                param=where,
            )
        elif item.type.endswith("_call"):  # made by the model: a built-in tool's call
            _join(out, "assistant", _opaque(item))
        else:
            out.append(Message("user", [_opaque(item)]))
    return out


def _join(out: list[Message], role: Literal["assistant", "tool"], part: Part) -> None:
    """Add `part` to the last message if it has `role`, else to a new one."""
    if out and out[-1].role == role:
        out[-1].parts.append(part)
    else:
        out.append(Message(role, [part]))


def _message(out: list[Message], item: wire.MessageItem, where: str) -> None:
    parts = [_part(p, f"{where}.content.{j}") for j, p in enumerate(item.content)]
    if item.role in ("system", "developer"):
        if not all(isinstance(p, Text) for p in parts):
            raise InvalidRequest(
                f"{where}.content: a {item.role} message holds text only",
                param=f"{where}.content",
            )
        out.append(Message("system", parts))
    elif item.role == "assistant":
        for part in parts:
            _join(out, "assistant", part)
    else:
        out.append(Message("user", parts))


def _part(part: wire.ContentPart, where: str) -> Part:
    if isinstance(part, wire.InputText | wire.OutputText):
        return Text(part.text)
    if isinstance(part, wire.Refusal):
        return Text(part.refusal)
    if isinstance(part, wire.InputImage):
        return _image(part, where)
    if isinstance(part, wire.InputFile):
        return _file(part, where)
    return _opaque(part)


def _image(part: wire.InputImage, where: str) -> Image | Opaque:
    if part.image_url:
        media_type, data = _data_url(part.image_url)
        if data is not None:
            return Image(data=data, media_type=media_type, detail=part.detail)
        return Image(url=part.image_url, detail=part.detail)
    if part.file_id:
        return _opaque(part)  # a file only OpenAI can resolve
    raise InvalidRequest(f"{where}: an input_image needs image_url or file_id", param=where)


def _file(part: wire.InputFile, where: str) -> Document | Opaque:
    if part.file_data:
        media_type, data = _data_url(part.file_data)
        if data is None:  # plain base64, as the SDKs send a PDF
            media_type, data = "application/pdf", part.file_data
        if media_type and media_type.startswith("text/"):
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8", errors="replace")
            except ValueError as exc:
                where += ".file_data"
                raise InvalidRequest(f"{where}: not valid base64", param=where) from exc
            return Document("text/plain", text=text, title=part.filename)
        return Document(media_type or "application/pdf", data=data, title=part.filename)
    if part.file_url:
        return Document("application/pdf", url=part.file_url, title=part.filename)
    return _opaque(part)


def _data_url(value: str) -> tuple[str | None, str | None]:
    """(media type, base64 data) of a `data:<type>;base64,<data>` URL, else (None, None)."""
    head, sep, data = value.partition(",")
    if not (sep and head.startswith("data:") and head.endswith(";base64")):
        return None, None
    return head.removeprefix("data:").removesuffix(";base64") or None, data


def _tool_result(item: wire.FunctionCallOutputItem) -> ToolResult:
    content: list[Text | Image | Document | Opaque] = []
    for j, piece in enumerate(item.output):
        part = _part(piece, f"output.{j}")
        if isinstance(part, Text | Image | Document):
            content.append(part)
        elif isinstance(part, Opaque):
            content.append(Text(orjson.dumps(part.raw).decode()))
    return ToolResult(item.call_id, content)


def _reasoning_part(item: wire.ReasoningItem) -> Reasoning | RedactedReasoning | None:
    texts = [c.text for c in item.content or []] or [s.text for s in item.summary]
    text = "\n\n".join(t for t in texts if t)
    if text:
        return Reasoning(text, item.encrypted_content)
    if item.encrypted_content:
        return RedactedReasoning(item.encrypted_content)
    return None


def _opaque(value: BaseModel) -> Opaque:
    raw = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return Opaque(PROTOCOL, str(raw.get("type", "unknown")), raw)


# --- tools and settings ------------------------------------------------------------


WEB_SEARCH = frozenset(
    {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11"}
)
"""OpenAI's hosted web search: a tool the model may use, dropped where it cannot."""


def translate_tools(
    tools: list[wire.FunctionTool | wire.BuiltinTool], dropped: list[str]
) -> list[Tool]:
    """Function tools, a `namespace`'s flattened; `web_search` dropped (noted in
    `dropped`); any other built-in tool a 400 naming it."""
    out: list[Tool] = []
    for i, tool in enumerate(tools):
        where = f"tools.{i}"
        if isinstance(tool, wire.FunctionTool):
            out.append(_function(tool))
        elif tool.type == "namespace":
            out.extend(_namespace(tool, where))
        elif tool.type in WEB_SEARCH:
            dropped.append(f"{where}: {tool.type} (OpenAI's hosted tool; no deployment runs it)")
        else:
            raise UnsupportedFeature(
                f"{where}: the built-in tool '{tool.type}' runs only on OpenAI's own "
                "Responses API, which no deployment of this router reaches; declare it "
                "as a function tool instead.",
                param=where,
            )
    names = [t.name for t in out]
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise InvalidRequest(f"tools: the function '{twice[0]}' is declared twice", param="tools")
    return out


def _function(tool: wire.FunctionTool) -> Tool:
    return Tool(tool.name, tool.description, tool.parameters, tool.strict)


def _namespace(tool: wire.BuiltinTool, where: str) -> list[Tool]:
    inner = (tool.model_extra or {}).get("tools")
    if not isinstance(inner, list):
        raise InvalidRequest(f"{where}.tools: a namespace needs a list of tools", param=where)
    out = []
    for j, item in enumerate(inner):
        if not (isinstance(item, dict) and item.get("type") == "function"):
            raise UnsupportedFeature(
                f"{where}.tools.{j}: a namespace here may only hold function tools",
                param=f"{where}.tools.{j}",
            )
        out.append(_function(validate(wire.FunctionTool, item)))
    return out


def translate_tool_choice(choice: wire.ToolChoice | None) -> ToolChoice | None:
    if choice is None or isinstance(choice, str):
        return choice
    if isinstance(choice, wire.ToolChoiceFunction):
        return NamedTool(choice.name)
    if isinstance(choice, wire.ToolChoiceAllowed):
        return choice.mode
    return NamedTool(choice.type)


def _output_format(text: wire.TextConfig | None) -> OutputFormat | None:
    form = text.format if text is not None else None
    if form is None:
        return None
    if isinstance(form, wire.FormatJSONSchema):
        return OutputFormat("json_schema", form.schema_, form.name, form.strict)
    return OutputFormat("json_object" if isinstance(form, wire.FormatJSONObject) else "text")


def _reasoning(reasoning: wire.ReasoningParam | None) -> ReasoningConfig | None:
    if reasoning is None or reasoning.effort is None:
        return None
    return ReasoningConfig(effort=reasoning.effort)


# --- conversation state ------------------------------------------------------------


def conversation_items(
    previous_input: list[Json], previous_output: list[Json], new_input: str | list[Json]
) -> list[Json]:
    """The whole input of a call made with `previous_response_id`: the stored
    response's input items, then its output items, then the new input (a
    string is one user message), its `item_reference`s replaced by the earlier
    item of that id when there is one. The earlier call's `instructions` are
    not carried over (OpenAI's rule): the new body's own apply."""
    earlier = previous_input + previous_output
    by_id = {item["id"]: item for item in earlier if isinstance(item.get("id"), str)}
    if isinstance(new_input, str):
        new_input = [{"type": "message", "role": "user", "content": new_input}]
    resolved = [
        by_id.get(item.get("id", ""), item) if item.get("type") == "item_reference" else item
        for item in new_input
    ]
    return earlier + resolved
