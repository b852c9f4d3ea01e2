"""OpenAI Chat Completions body -> the neutral `Request`: pure functions.

The body is validated with `schemas.chat.ChatCompletionRequest` (a 400 naming
the field, as `validation_error` words it), then translated:

- `system` and `developer` messages become messages of role "system", in place.
- Text parts (and a string `content`) become `Text`; `image_url` parts become
  `Image` with the URL as given (a `data:` URL included: each adapter reads it);
  an assistant `refusal` part becomes `Text`; any other part (`input_audio`,
  `file`, ...) becomes an `Opaque` part of protocol "openai", which only an
  OpenAI-compatible upstream can take (the others refuse it, naming it).
- Assistant `reasoning_content` becomes a `Reasoning` part before the text;
  `tool_calls` become `ToolCall` parts, with Gemini's thought signature when
  the client sent it back (`extra_content.google.thought_signature`).
- A `tool` message becomes a "tool" message holding one `ToolResult`.
- `max_completion_tokens ?? max_tokens` -> `max_output_tokens`; `stop` -> a
  list; `user`, or else `safety_identifier`, -> `user`; `response_format` ->
  `output_format`; `reasoning_effort` -> `reasoning.effort`.
- The router's own fields (`models`, `routing`, `cache`) go to `options`;
  every other undeclared field goes to `extras`, for adapters to refuse or ignore.
- The body itself is kept as `native` ("openai"): an OpenAI-compatible
  upstream gets it whole, model swapped.

Refused here, for every upstream: `n` > 1 (the router answers one choice).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    Part,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import (
    ROUTER_FIELDS,
    NamedTool,
    NativeBody,
    OutputFormat,
    ReasoningConfig,
    Request,
    Tool,
    ToolChoice,
)
from model_router.errors import InvalidRequest, UnsupportedFeature
from model_router.schemas import chat as wire

TOOL_CHOICES: dict[str, ToolChoice] = {"none": "none", "auto": "auto", "required": "required"}


def _is_union_tag(part: str | int) -> bool:
    """pydantic names the union member it tried in `loc`; callers never wrote that."""
    return isinstance(part, str) and (part == "str" or part.startswith("part:") or "[" in part)


def validation_error(exc: ValidationError) -> InvalidRequest:
    """The most specific problem pydantic found, as a 400 naming the field."""
    first = max(exc.errors(), key=lambda e: len(e["loc"]))
    parts = list(first["loc"])
    loc = ".".join(str(p) for p in parts if not _is_union_tag(p))
    message = first["msg"].removeprefix("Value error, ")
    where = f"'{loc}'" if loc else "the body"
    return InvalidRequest(
        f"Invalid value for {where}: {message}", param=loc or None, code="invalid_value"
    )


def parse(body: dict[str, Any]) -> wire.ChatCompletionRequest:
    """The validated body; raises InvalidRequest (400) naming the field."""
    try:
        request = wire.ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc) from None
    if (request.n or 1) > 1:
        raise UnsupportedFeature("n > 1 is not supported by the router.", param="n")
    return request


def to_request(body: dict[str, Any]) -> Request:
    """The neutral request for a Chat Completions body (validated here)."""
    return from_wire(parse(body), body)


def from_wire(request: wire.ChatCompletionRequest, body: dict[str, Any]) -> Request:
    extras: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if request.model_extra:
        for name, value in request.model_extra.items():
            (options if name in ROUTER_FIELDS else extras)[name] = value
    user = request.user
    if not user and isinstance(safety := extras.get("safety_identifier"), str):
        user = safety
    metadata = extras.get("metadata")
    choice = request.tool_choice
    return Request(
        model=request.model,
        messages=[_message(m) for m in request.messages],
        stream=bool(request.stream),
        max_output_tokens=request.output_limit,
        temperature=request.temperature,
        top_p=request.top_p,
        stop=request.stop_sequences,
        seed=request.seed,
        user=user,
        tools=[_tool(t) for t in request.tools] if request.tools else [],
        tool_choice=_tool_choice(choice) if choice is not None else None,
        parallel_tool_calls=request.parallel_tool_calls,
        output_format=_output_format(request.response_format)
        if request.response_format is not None
        else None,
        reasoning=ReasoningConfig(effort=request.reasoning_effort)
        if request.reasoning_effort is not None
        else None,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        metadata=metadata if isinstance(metadata, dict) else None,
        native=NativeBody("openai", body),
        extras=extras,
        options=options,
    )


def _message(message: wire.Message) -> Message:
    role, content = message.role, message.content
    plain = role != "tool" and not message.tool_calls and not message.reasoning_content
    if plain and isinstance(content, str):  # the common case
        return Message("system" if role == "developer" else role, [Text(content)], message.name)
    if role == "tool":
        result = ToolResult(message.tool_call_id or "", _content(message.content))
        return Message("tool", [result], message.name)
    parts: list[Part] = []
    if role == "assistant" and message.reasoning_content:
        parts.append(Reasoning(message.reasoning_content))
    parts.extend(_content(message.content))
    for call in message.tool_calls or ():
        parts.append(
            ToolCall(
                call.id,
                call.function.name,
                call.function.arguments,
                signature=_signature(call.model_extra),
            )
        )
    return Message("system" if role == "developer" else role, parts, message.name)


def _content(
    content: str | list[wire.ContentPart] | None,
) -> list[Text | Image | Document | Opaque]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)]
    parts: list[Text | Image | Document | Opaque] = []
    for part in content:
        if isinstance(part, wire.TextPart):
            parts.append(Text(part.text))
        elif isinstance(part, wire.ImagePart):
            parts.append(Image(url=part.image_url.url, detail=part.image_url.detail))
        elif part.type == "refusal" and isinstance(refusal := getattr(part, "refusal", None), str):
            parts.append(Text(refusal))
        else:
            parts.append(Opaque("openai", part.type, part.model_dump()))
    return parts


def _signature(extra: dict[str, Any] | None) -> str | None:
    google = ((extra or {}).get("extra_content") or {}).get("google") or {}
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) and signature else None


def _tool(tool: wire.Tool) -> Tool:
    function = tool.function
    return Tool(function.name, function.description, function.parameters, function.strict)


def _tool_choice(choice: str | wire.NamedToolChoice) -> ToolChoice | None:
    if isinstance(choice, wire.NamedToolChoice):
        return NamedTool(choice.name)
    return TOOL_CHOICES.get(choice)


def _output_format(response_format: wire.ResponseFormat) -> OutputFormat:
    schema = response_format.json_schema
    if schema is None:
        return OutputFormat(response_format.type)
    return OutputFormat(response_format.type, schema.schema_, schema.name, schema.strict)
