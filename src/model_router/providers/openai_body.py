"""The neutral `Request` -> an OpenAI Chat Completions body: pure functions.

Used when a request did not come with an OpenAI body of its own (another
front door, e.g. Anthropic Messages, asking an OpenAI-compatible model).

- System messages stay in place as "system" messages; each `ToolResult`
  becomes a "tool" message; an assistant's tool calls become `tool_calls`.
- Images become `image_url` parts (inline data as a `data:` URL); a PDF
  becomes a `file` part (inline data only), a text document a text part.
- `Opaque` parts of protocol "openai" are sent as they came; any other is
  refused (`UnsupportedFeature`, param "messages").
- Reasoning (thinking) from earlier turns is not sent back: Chat Completions
  has no field for it. `cache_control` hints are dropped.
- `max_output_tokens` -> `max_completion_tokens`, clamped to the model's
  output limit; `output_format` -> `response_format`.
- Reasoning (an effort, a thinking budget, adaptive thinking) ->
  `reasoning_effort` (`hints.effort`) for reasoning models only
  (`REASONING_MODELS`, by upstream name); for others it is dropped.
- `user` longer than `MAX_USER` characters is dropped. Every hint dropped or
  clamped is noted in `request.dropped` (`hints`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import NamedTool, OutputFormat, Request, Tool
from model_router.errors import UnsupportedFeature
from model_router.providers import hints
from model_router.providers.base import Target

Json = dict[str, Any]

REASONING_MODELS = re.compile(r"^(o\d|gpt-5)")
"""Upstream model names that take `reasoning_effort` (OpenAI's o-series, GPT-5)."""
MAX_USER = 64
"""The longest `user` sent (OpenAI's `safety_identifier` takes 64 characters)."""


def body_from_request(request: Request, target: Target | None = None) -> Json:
    hints.foreign_hints(request, "openai")
    if target is not None and target.reads_images is False:
        hints.refuse_images(request)
    body: Json = {"model": request.model, "messages": messages_of(request.messages)}
    limit = hints.output_limit(request, target) if target else request.max_output_tokens
    fields: Json = {
        "max_completion_tokens": limit,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": list(request.stop) or None,
        "seed": request.seed,
        "user": hints.user_id(request, MAX_USER),
        "presence_penalty": request.presence_penalty,
        "frequency_penalty": request.frequency_penalty,
        "parallel_tool_calls": request.parallel_tool_calls,
        "reasoning_effort": _reasoning_effort(request, target),
    }
    body.update({k: v for k, v in fields.items() if v is not None})
    if request.tools:
        body["tools"] = [tool_json(t) for t in request.tools]
    choice = request.tool_choice
    if isinstance(choice, NamedTool):
        body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    elif choice is not None:
        body["tool_choice"] = choice
    if request.output_format is not None:
        body["response_format"] = response_format(request.output_format)
    return body


def _reasoning_effort(request: Request, target: Target | None) -> str | None:
    asked = hints.asked_reasoning(request)
    if asked is None:
        return None
    name = target.upstream_model if target else request.model
    if not REASONING_MODELS.match(name):
        hints.note(request, asked)
        return None
    return hints.effort(request.reasoning)


def tool_json(tool: Tool) -> Json:
    """A tool as Chat Completions writes it."""
    function = {
        k: v
        for k, v in (
            ("name", tool.name),
            ("description", tool.description),
            ("parameters", tool.parameters),
            ("strict", tool.strict),
        )
        if v is not None
    }
    return {"type": "function", "function": function}


def response_format(output: OutputFormat) -> Json:
    if output.type != "json_schema":
        return {"type": output.type}
    schema: Json = {"name": output.name or "response"}
    if output.schema is not None:
        schema["schema"] = output.schema
    if output.strict is not None:
        schema["strict"] = output.strict
    return {"type": "json_schema", "json_schema": schema}


def messages_of(messages: list[Message]) -> list[Json]:
    out: list[Json] = []
    for message in messages:
        if message.role == "tool" or any(isinstance(p, ToolResult) for p in message.parts):
            out.extend(_tool_messages(message))
            rest = [p for p in message.parts if not isinstance(p, ToolResult)]
            if rest and message.role != "tool":
                out.append(_turn(message.role, rest, message.name))
        else:
            out.append(_turn(message.role, message.parts, message.name))
    return out


def _turn(role: str, parts: Sequence[Part], name: str | None) -> Json:
    turn: Json = {"role": role}
    calls = [p for p in parts if isinstance(p, ToolCall)]
    content = [p for p in parts if not isinstance(p, ToolCall | Reasoning | RedactedReasoning)]
    if role == "assistant":
        turn["content"] = "".join(_text_only(content)) if content else None
    else:
        turn["content"] = _content(content)
    if calls:
        turn["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for c in calls
        ]
    if name:
        turn["name"] = name
    return turn


def _text_only(parts: Sequence[Part]) -> list[str]:
    texts = []
    for part in parts:
        if not isinstance(part, Text):
            raise _refused(part)
        texts.append(part.text)
    return texts


def _tool_messages(message: Message) -> list[Json]:
    return [
        {"role": "tool", "tool_call_id": p.tool_call_id, "content": _content(list(p.content))}
        for p in message.parts
        if isinstance(p, ToolResult)
    ]


def _content(parts: Sequence[Part]) -> str | list[Json]:
    if all(isinstance(p, Text) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, Text))
    return [_part(p) for p in parts]


def _part(part: Part) -> Json:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Image):
        url = part.url or f"data:{part.media_type or 'image/png'};base64,{part.data}"
        image: Json = {"url": url}
        if part.detail:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, Document):
        if part.text is not None:
            return {"type": "text", "text": part.text}
        if part.data is not None:
            file: Json = {"file_data": f"data:{part.media_type};base64,{part.data}"}
            file["filename"] = part.title or "document.pdf"
            return {"type": "file", "file": file}
    if isinstance(part, Opaque) and part.protocol == "openai":
        return part.raw
    raise _refused(part)


def _refused(part: Part) -> UnsupportedFeature:
    kind = part.kind if isinstance(part, Opaque) else type(part).__name__.lower()
    return UnsupportedFeature(
        f"OpenAI-compatible models do not accept '{kind}' content here.", param="messages"
    )
