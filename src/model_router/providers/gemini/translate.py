"""The neutral request <-> Gemini `generateContent`: pure translation (errors
in `errors`, re-exported here).

Decisions the Gemini wire format forces on us:

- System and developer messages are merged, in order, into one
  `systemInstruction`; their position in the conversation is lost.
- Images: `data:` URLs become `inlineData`. The router never downloads an
  https image (latency, size and server-side request forgery); it sends the URL
  as `fileData.fileUri` for Gemini to fetch, with the MIME type guessed from the
  URL path's extension (`IMAGE_TYPES`). Any other URL, or an extension not in
  the table, is an `UnsupportedFeature`: send the image as a data URL instead.
- `reasoning_effort` maps to `thinkingConfig.thinkingLevel` through
  `THINKING_LEVELS`: Gemini 3 cannot switch thinking off, so "none" and
  "minimal" ask for the lowest level, "low"; "medium" and above ask for "high".
  Thought summaries are then requested, and come back as `reasoning_content`.
- Thought signatures: Gemini 3 rejects a replayed `functionCall` without its
  `thoughtSignature`. A client can send it back as
  `tool_calls[].extra_content.google.thought_signature` (the convention of
  Gemini's own OpenAI-compatible endpoint); otherwise the first call of each
  model turn carries Google's documented validator-skipping value. Assistant
  `reasoning_content` is not replayed: Gemini reads nothing from unsigned thoughts.
- Fields Gemini cannot express are rejected (`UnsupportedFeature`), except
  those in `IGNORED_FIELDS`, which only concern the OpenAI platform.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from model_router.domain.completion import Completion, FinishReason
from model_router.domain.content import (
    Document,
    Image,
    Message,
    Opaque,
    OutputPart,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    ToolResult,
)
from model_router.domain.request import ROUTER_FIELDS, NamedTool, ReasoningConfig, Request
from model_router.domain.usage import Usage
from model_router.errors import InvalidRequest, UnsupportedFeature
from model_router.providers import hints
from model_router.providers.base import Target
from model_router.providers.gemini.errors import (
    embedded_error,
    gemini_error,
    parse_error,
    retry_delay,
)
from model_router.providers.http import malformed

__all__ = [
    "candidate_parts",
    "embedded_error",
    "from_response",
    "function_call",
    "gemini_error",
    "image_part",
    "map_finish",
    "parse_error",
    "parse_usage",
    "retry_delay",
    "to_request",
]

FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",  # "tool_calls" when the reply holds a function call
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "MODEL_ARMOR": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "IMAGE_OTHER": "content_filter",
    "OTHER": "stop",
    "LANGUAGE": "stop",
}
# The model produced something unusable: an upstream error, not a reply.
FAILED_FINISH_REASONS = frozenset(
    {
        "MALFORMED_FUNCTION_CALL",
        "UNEXPECTED_TOOL_CALL",
        "MISSING_THOUGHT_SIGNATURE",
        "TOO_MANY_TOOL_CALLS",
        "MALFORMED_RESPONSE",
    }
)

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
}

THINKING_LEVELS = {
    "none": "low",
    "minimal": "low",
    "low": "low",
    "medium": "high",
    "high": "high",
    "xhigh": "high",
    "max": "high",  # Anthropic's output_config.effort
}

# OpenAI-platform fields with no effect on the reply; anything else unknown is rejected.
IGNORED_FIELDS = ROUTER_FIELDS | {
    "user",
    "safety_identifier",
    "metadata",
    "store",
    "service_tier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "parallel_tool_calls",  # Gemini has no switch for it
    "stream_options",  # Gemini always reports usage
}

# Gemini 3 accepts this in place of a lost thought signature.
SKIP_SIGNATURE = "skip_thought_signature_validator"
# Gemini wants the conversation to open with a user turn.
OPENING_USER_TEXT = "(conversation start)"

_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+);base64,(.+)", re.DOTALL)
_GEMINI_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,127}")

Json = dict[str, Any]


# -- request ------------------------------------------------------------------------------------


def to_request(request: Request, target: Target) -> Json:
    """The generateContent body for a request; raises what Gemini cannot express."""
    _check_fields(request)
    hints.foreign_hints(request, "gemini")
    if request.user is not None:
        hints.note(request, "metadata.user_id" if request.front_door == "messages" else "user")
    payload: Json = {"contents": _contents(request.messages)}
    if system := _system_text(request.messages):
        payload["systemInstruction"] = {"parts": [{"text": system}]}
    if request.tools:
        payload["tools"] = [{"functionDeclarations": _declarations(request)}]
        if tool_config := _tool_config(request):
            payload["toolConfig"] = tool_config
    elif request.tool_choice == "required" or isinstance(request.tool_choice, NamedTool):
        raise InvalidRequest("tool_choice needs tools", param="tool_choice")
    if config := _generation_config(request, target):
        payload["generationConfig"] = config
    payload.update(target.extra_body)
    return payload


def _check_fields(request: Request) -> None:
    for name, value in request.extras.items():
        if name not in IGNORED_FIELDS and value not in (None, False):
            raise UnsupportedFeature(f"Gemini does not support '{name}'", param=name)


def _system_text(messages: Iterable[Message]) -> str:
    texts = [_plain_text(m.parts) for m in messages if m.role == "system"]
    return "\n\n".join(t for t in texts if t)


def _contents(messages: list[Message]) -> list[Json]:
    turns: list[Json] = []
    call_names: dict[str, str] = {}
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            role, parts = "model", _model_parts(message)
            call_names.update({p.id: p.name for p in message.parts if isinstance(p, ToolCall)})
        else:
            role, parts = "user", _user_parts(message.parts, call_names)
        if not parts:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["parts"].extend(parts)
        else:
            turns.append({"role": role, "parts": parts})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "parts": [{"text": OPENING_USER_TEXT}]})
    return turns


def _kind(part: Part) -> str:
    if isinstance(part, Opaque):
        return part.kind
    return {Image: "image_url", Document: "document"}.get(type(part), type(part).__name__)


def _plain_text(parts: Sequence[Part]) -> str:
    """The text of parts that must all be text."""
    for part in parts:
        if not isinstance(part, Text):
            raise _unsupported_part(_kind(part))
    return "".join(p.text for p in parts if isinstance(p, Text))


def _user_parts(parts: Sequence[Part], call_names: dict[str, str]) -> list[Json]:
    out: list[Json] = []
    for part in parts:
        if isinstance(part, Text):
            if part.text:
                out.append({"text": part.text})
        elif isinstance(part, Image):
            out.append(image_part(part))
        elif isinstance(part, ToolResult):
            out.append(_function_response(part, call_names))
        else:
            raise _unsupported_part(_kind(part))
    return out


def _unsupported_part(kind: str) -> UnsupportedFeature:
    return UnsupportedFeature(
        f"Gemini does not accept '{kind}' content parts through the router", param="messages"
    )


def image_part(image: Image) -> Json:
    """`inlineData` for inline data or a data URL, `fileData` for an https URL with a
    known image type."""
    if image.data is not None:
        return {"inlineData": {"mimeType": image.media_type or "image/png", "data": image.data}}
    url = image.url or ""
    if url.startswith("data:"):
        found = _DATA_URL.fullmatch(url)
        if not found:
            raise InvalidRequest("an image data URL must be base64: data:<type>;base64,...")
        return {"inlineData": {"mimeType": found.group(1), "data": found.group(2)}}
    parsed = urlsplit(url)
    if parsed.scheme != "https":
        raise UnsupportedFeature(
            "Gemini takes images as https URLs or base64 data URLs", param="messages"
        )
    path = parsed.path.lower()
    mime = next((t for ext, t in IMAGE_TYPES.items() if path.endswith(ext)), None)
    if mime is None:
        raise UnsupportedFeature(
            "cannot tell the image type from the URL's extension "
            f"({', '.join(IMAGE_TYPES)}); send the image as a base64 data URL",
            param="messages",
        )
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def _model_parts(message: Message) -> list[Json]:
    parts: list[Json] = []
    texts = [
        p for p in message.parts if not isinstance(p, ToolCall | Reasoning | RedactedReasoning)
    ]
    if text := _plain_text(texts):
        parts.append({"text": text})
    for i, call in enumerate(p for p in message.parts if isinstance(p, ToolCall)):
        part: Json = {
            "functionCall": {"id": call.id, "name": call.name, "args": _args(call.arguments)}
        }
        if call.signature:
            part["thoughtSignature"] = call.signature
        elif i == 0:
            part["thoughtSignature"] = SKIP_SIGNATURE
        parts.append(part)
    return parts


def _args(arguments: str) -> Json:
    if not arguments.strip():
        return {}
    try:
        args = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        raise InvalidRequest("tool call arguments must be a JSON object", param="messages")
    return args


def _function_response(result: ToolResult, call_names: dict[str, str]) -> Json:
    call_id = result.tool_call_id
    name = call_names.get(call_id)
    if name is None:
        raise InvalidRequest(
            f"tool message answers tool_call_id '{call_id}', which no earlier assistant "
            "message called",
            param="messages",
        )
    text = _plain_text(result.content)
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = None
    answer = parsed if isinstance(parsed, dict) else text
    return {"functionResponse": {"id": call_id, "name": name, "response": {"result": answer}}}


def _declarations(request: Request) -> list[Json]:
    declarations = []
    for tool in request.tools:
        if not _GEMINI_NAME.fullmatch(tool.name):
            raise UnsupportedFeature(
                f"Gemini function names start with a letter or '_': '{tool.name}'",
                param="tools",
            )
        declaration: Json = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        if tool.parameters is not None:
            declaration["parametersJsonSchema"] = tool.parameters
        declarations.append(declaration)
    return declarations


def _tool_config(request: Request) -> Json | None:
    choice = request.tool_choice
    if choice is None:
        return None
    if isinstance(choice, NamedTool):
        if choice.name not in {t.name for t in request.tools}:
            raise InvalidRequest(
                f"tool_choice names an unknown tool '{choice.name}'", param="tool_choice"
            )
        config: Json = {"mode": "ANY", "allowedFunctionNames": [choice.name]}
    else:
        config = {"mode": {"none": "NONE", "auto": "AUTO", "required": "ANY"}[choice]}
    return {"functionCallingConfig": config}


def _generation_config(request: Request, target: Target) -> Json:
    config: Json = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "topK": request.top_k,
        "maxOutputTokens": hints.output_limit(request, target),  # Gemini refuses more
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
    }
    if stops := [s for s in request.stop if s]:
        config["stopSequences"] = stops[:5]
    output = request.output_format
    if output is not None and output.type != "text":
        config["responseMimeType"] = "application/json"
        if output.type == "json_schema" and output.schema is not None:
            config["responseJsonSchema"] = output.schema
    if thinking := _thinking_config(request.reasoning):
        config["thinkingConfig"] = thinking
    return {k: v for k, v in config.items() if v is not None}


def _thinking_config(reasoning: ReasoningConfig | None) -> Json | None:
    """An effort -> `thinkingLevel`; Anthropic's thinking budget -> `thinkingBudget`
    (adaptive thinking -> -1, Gemini's dynamic budget; disabled -> 0)."""
    if reasoning is None:
        return None
    if reasoning.effort is not None:
        level = THINKING_LEVELS.get(reasoning.effort)
        if level is None:
            raise InvalidRequest(
                f"reasoning_effort must be one of {', '.join(THINKING_LEVELS)}",
                param="reasoning_effort",
            )
        return {"thinkingLevel": level, "includeThoughts": True}
    budget = {"adaptive": -1, "disabled": 0}.get(reasoning.mode or "", reasoning.budget_tokens)
    if budget is None:
        return None
    return {"thinkingBudget": budget, "includeThoughts": budget != 0}


# -- response -----------------------------------------------------------------------------------


def new_call_id() -> str:
    """An id for a function call Gemini sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


def map_finish(value: Any, *, has_tool_calls: bool, provider: str) -> FinishReason:
    """Gemini's finishReason in OpenAI's terms; a failed generation raises."""
    reason = str(value)
    if reason in FAILED_FINISH_REASONS:
        raise malformed(provider, f"finishReason {reason}")
    mapped = FINISH_REASONS.get(reason) or (
        "content_filter" if reason.startswith("IMAGE_") else "stop"
    )
    return "tool_calls" if mapped == "stop" and has_tool_calls else mapped


def function_call(part: Json, provider: str) -> ToolCall:
    call = part["functionCall"]
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise malformed(provider, "functionCall without a name")
    args = call.get("args")
    return ToolCall(
        id=str(call.get("id") or new_call_id()),
        name=call["name"],
        arguments=orjson.dumps(args if isinstance(args, dict) else {}).decode(),
    )


def candidate_parts(data: Json, provider: str) -> list[Json]:
    """The parts of the first candidate ([] if it has no content)."""
    content = data["candidates"][0].get("content") or {}
    parts = content.get("parts") or []
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise malformed(provider, "candidate parts are not objects")
    return parts


def from_response(data: Any, provider: str) -> Completion:
    if not isinstance(data, dict):
        raise malformed(provider, "body is not a JSON object")
    result = Completion(
        parts=[],
        finish_reason="content_filter",
        usage=parse_usage(data.get("usageMetadata")),
        upstream_id=data.get("responseId"),
        upstream_model=data.get("modelVersion"),
    )
    candidates = data.get("candidates")
    if not candidates:
        if (data.get("promptFeedback") or {}).get("blockReason"):
            return result  # the prompt itself was blocked
        raise malformed(provider, "no candidates")
    if not isinstance(candidates, list) or not isinstance(candidates[0], dict):
        raise malformed(provider, "candidates[0] is not an object")
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[OutputPart] = []
    for part in candidate_parts(data, provider):
        if "functionCall" in part:
            calls.append(function_call(part, provider))
        elif isinstance(text := part.get("text"), str):
            (thoughts if part.get("thought") else texts).append(text)
    if thought := "".join(thoughts):
        result.parts.append(Reasoning(thought))
    if text := "".join(texts):
        result.parts.append(Text(text))
    result.parts.extend(calls)
    result.finish_reason = map_finish(
        candidates[0].get("finishReason") or "STOP",
        has_tool_calls=bool(calls),
        provider=provider,
    )
    return result


def parse_usage(raw: Any) -> Usage:
    """`usageMetadata` in OpenAI's convention: thoughts count as output."""
    if not isinstance(raw, dict):
        return Usage()
    thoughts = int(raw.get("thoughtsTokenCount") or 0)
    return Usage(
        input_tokens=int(raw.get("promptTokenCount") or 0),
        output_tokens=int(raw.get("candidatesTokenCount") or 0) + thoughts,
        cached_input_tokens=int(raw.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )
