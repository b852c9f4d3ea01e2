"""Our answers in the Responses API's wire format: the `Response` object, its
output items, usage, status and error bodies (shared by the whole and the
streamed answer).

Output items, in the order of the model's parts: each `Reasoning` a
`reasoning` item (its text as one `summary_text`; a signature as
`encrypted_content`, which comes back the same way), each
`RedactedReasoning` a `reasoning` item with `encrypted_content` only, a run
of text one `message` item (one `output_text` part), a refusal a last
`message` item of one `refusal` part, each `ToolCall` a `function_call` item (`call_id` is the
tool call's id). Item ids are ours: `rs_`, `msg_` or `fc_`, the request id
and the item's index in `output`.

The fields that echo the request (`instructions`, `tools`, `tool_choice`,
`text`, `temperature`, `metadata`, `store`, `previous_response_id`, ...) are
the client's own values, from `Request.client_body`; OpenAI's defaults when
the client left them out.

Beside OpenAI's fields we add the router's: `provider` and `latency_ms` on
the response, and `input_cost_usd`, `output_cost_usd`, `total_cost_usd` in
`usage` (null when a price is unknown, never $0). The SDKs ignore fields
they do not know.
"""

from __future__ import annotations

from typing import Any, Literal

from model_router.costs.pricing import Cost
from model_router.domain.completion import Completion, FinishReason
from model_router.domain.content import Json, OutputPart, Reasoning, RedactedReasoning, Text
from model_router.domain.request import Request
from model_router.domain.usage import Usage
from model_router.errors import RouterError
from model_router.frontdoors.base import Answered, cost_json
from model_router.frontdoors.openai_chat import router_error_json

Status = Literal["completed", "incomplete", "failed", "in_progress"]

FINISH_STATUS: dict[FinishReason, tuple[Status, str | None]] = {
    "stop": ("completed", None),
    "tool_calls": ("completed", None),
    "length": ("incomplete", "max_output_tokens"),
    "content_filter": ("incomplete", "content_filter"),
}
"""Neutral finish reason -> the response's `status` and `incomplete_details.reason`."""

REQUIRED_ECHO = ("instructions", "metadata", "temperature", "top_p")
"""Request fields every `Response` repeats: the client's values, null if not sent."""

ECHOED = (
    "max_output_tokens",
    "previous_response_id",
    "reasoning",
    "user",
    "truncation",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    "max_tool_calls",
    "top_logprobs",
    "background",
)
"""Request fields a `Response` repeats when the client sent them."""


def response_id(answered: Answered) -> str:
    return "resp_" + answered.request_id.replace("-", "")


def item_id(prefix: str, answered: Answered, index: int) -> str:
    """`msg_`, `rs_` or `fc_` + the request id + the item's index in `output`."""
    return f"{prefix}_{answered.request_id.replace('-', '')}_{index}"


def usage_json(usage: Usage, cost: Cost | None) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    } | cost_json(cost)


# --- output items ------------------------------------------------------------------


def message_item(item: str, content: list[Json], status: Status = "completed") -> Json:
    return {
        "type": "message",
        "id": item,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def output_text(text: str) -> Json:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def reasoning_item(item: str, text: str | None, encrypted: str | None) -> Json:
    summary = [{"type": "summary_text", "text": text}] if text else []
    out: Json = {"type": "reasoning", "id": item, "summary": summary}
    if encrypted is not None:
        out["encrypted_content"] = encrypted
    return out


def function_call_item(
    item: str, call_id: str, name: str, arguments: str, status: Status = "completed"
) -> Json:
    return {
        "type": "function_call",
        "id": item,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def output_items(completion: Completion, answered: Answered) -> list[Json]:
    """The answer's parts as output items: a run of text is one message."""
    out: list[Json] = []
    for part in completion.parts:
        index = len(out)
        if isinstance(part, Text):
            if out and out[-1]["type"] == "message":
                out[-1]["content"][0]["text"] += part.text
            else:
                out.append(message_item(item_id("msg", answered, index), [output_text(part.text)]))
        else:
            out.append(_item(part, answered, index))
    if completion.refusal:
        refusal = {"type": "refusal", "refusal": completion.refusal}
        out.append(message_item(item_id("msg", answered, len(out)), [refusal]))
    return out


def _item(part: OutputPart, answered: Answered, index: int) -> Json:
    if isinstance(part, Reasoning):
        return reasoning_item(item_id("rs", answered, index), part.text, part.signature)
    if isinstance(part, RedactedReasoning):
        return reasoning_item(item_id("rs", answered, index), None, part.data)
    assert not isinstance(part, Text)
    return function_call_item(item_id("fc", answered, index), part.id, part.name, part.arguments)


# --- the response ------------------------------------------------------------------


def echo(request: Request | None) -> Json:
    """The request fields the response repeats, OpenAI's defaults when absent."""
    body = request.client_body if request is not None and request.client_body else {}
    out: Json = {name: body.get(name) for name in REQUIRED_ECHO}
    out |= {name: body[name] for name in ECHOED if name in body}
    out["tools"] = [_tool(t) for t in body.get("tools") or []]
    out["tool_choice"] = body.get("tool_choice", "auto")
    out["parallel_tool_calls"] = body.get("parallel_tool_calls", True)
    out["text"] = body.get("text") or {"format": {"type": "text"}}
    out["store"] = body.get("store", True)
    return out


def _tool(tool: Json) -> Json:
    """A function tool with the fields a `Response` must have; others as sent."""
    if tool.get("type") != "function":
        return tool
    return {"description": None, "parameters": None, "strict": None} | tool


def response_body(
    answered: Answered,
    request: Request | None,
    *,
    status: Status,
    output: list[Json],
    usage: Json | None = None,  # left out until known
    incomplete: str | None = None,
    error: Json | None = None,
) -> Json:
    """A `Response` object at any stage (created, in progress, final)."""
    created = int(answered.created.timestamp())
    body: Json = {
        "id": response_id(answered),
        "object": "response",
        "created_at": created,
        "completed_at": created + answered.latency_ms // 1000 if status == "completed" else None,
        "status": status,
        "error": error,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": answered.model,
        "output": output,
        **({"usage": usage} if usage is not None else {}),
        **echo(request),
        "provider": answered.provider,
        "latency_ms": answered.latency_ms,
    }
    return body


def final_status(completion: Completion) -> tuple[Status, str | None]:
    return FINISH_STATUS[completion.finish_reason]


def response_json(completion: Completion, answered: Answered, request: Request | None) -> Json:
    """The whole answer, as a `Response` object."""
    status, incomplete = final_status(completion)
    return response_body(
        answered,
        request,
        status=status,
        output=output_items(completion, answered),
        usage=usage_json(completion.usage, answered.cost),
        incomplete=incomplete,
    )


# --- errors ------------------------------------------------------------------------


def error_json(error: RouterError) -> Json:
    """OpenAI's `{"error": {"message", "type", "param", "code"}}`."""
    return router_error_json(error)


def failure_json(error: RouterError) -> Json:
    """A failed response's `error`: OpenAI's codes know rate limits and the rest
    is a server error."""
    code = "rate_limit_exceeded" if error.status_code == 429 else "server_error"
    return {"code": code, "message": error.message}
