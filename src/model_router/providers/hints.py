"""What a translation to another protocol does with hints its target cannot
take: pure functions shared by the adapters that translate the neutral request.

A hint that does not change the answer's meaning is mapped to the target's
equivalent where one exists, else dropped or clamped, and noted in
`request.dropped` (once, whatever the number of attempts), so the request log
says what the upstream did not see. What changes the meaning (a server tool,
content the target cannot read) is refused with a 400 naming it.

Hints noted (their names are those of the client's protocol):
- `cache_control` on any part or tool (prompt caching is automatic elsewhere);
- `thinking` blocks of earlier turns (only their own provider reads them);
- `max_tokens clamped to N` above the model's output limit;
- `metadata.user_id` longer than the target takes;
- top-level fields only an Anthropic upstream reads (`NATIVE_ONLY`), and
  `defer_loading` on tools (the tool is sent, loaded up front);
- `thinking` / `output_config.effort` when the target has no equivalent.
Images and PDFs for a model known to read text only are refused.
"""

from __future__ import annotations

from model_router.domain.content import (
    Document,
    Image,
    Reasoning,
    RedactedReasoning,
    ToolResult,
)
from model_router.domain.request import ReasoningConfig, Request, WireProtocol
from model_router.errors import UnsupportedFeature
from model_router.providers.base import Target

NATIVE_ONLY = ("context_management", "cache_control", "service_tier", "inference_geo")
"""Top-level Messages fields that steer Anthropic's serving, not the answer."""


def note(request: Request, hint: str) -> None:
    """Record a dropped or clamped hint, once."""
    if hint not in request.dropped:
        request.dropped.append(hint)


def output_limit(request: Request, target: Target) -> int | None:
    """The client's `max_tokens`, clamped to the model's output limit (noted)."""
    limit, cap = request.max_output_tokens, target.max_output_tokens
    if limit is not None and cap is not None and limit > cap:
        note(request, f"max_tokens clamped to {cap}")
        return cap
    return limit


def user_id(request: Request, longest: int) -> str | None:
    """The end user's id, or None (noted) when longer than the target takes."""
    if request.user is not None and len(request.user) > longest:
        note(request, f"metadata.user_id (longer than {longest} characters)")
        return None
    return request.user


def foreign_hints(request: Request, protocol: WireProtocol) -> None:
    """Note the hints of a request going to `protocol`, another than its own,
    and refuse the tools only another provider runs."""
    if any(
        p.cache_control for m in request.messages for p in m.parts if hasattr(p, "cache_control")
    ) or any(t.cache_control for t in request.tools):
        note(request, "cache_control")
    if any(isinstance(p, Reasoning | RedactedReasoning) for m in request.messages for p in m.parts):
        note(request, "thinking blocks of earlier turns")
    for tool in request.tools:
        if tool.builtin is not None and tool.builtin.protocol != protocol:
            raise UnsupportedFeature(
                f"tools: '{tool.builtin.kind}' ({tool.name}) is a server tool that only "
                "its own provider runs; this model cannot use it",
                param="tools",
            )
    native = request.native
    if native is None:
        return
    for name in NATIVE_ONLY:
        if native.body.get(name) is not None:
            note(request, name)
    tools = native.body.get("tools")
    if isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("defer_loading") for t in tools
    ):
        note(request, "tools.defer_loading")


def refuse_images(request: Request) -> None:
    """Refuse images and PDFs, for a model known to read text only."""
    for message in request.messages:
        for part in message.parts:
            inner = part.content if isinstance(part, ToolResult) else [part]
            for item in inner:
                if isinstance(item, Image) or (isinstance(item, Document) and item.text is None):
                    kind = "an image" if isinstance(item, Image) else "a PDF document"
                    raise UnsupportedFeature(
                        f"messages: this model reads text only and cannot take {kind}",
                        param="messages",
                    )


EFFORTS = ("minimal", "low", "medium", "high")


def effort(reasoning: ReasoningConfig | None) -> str | None:
    """One effort level (OpenAI's words) for the reasoning asked for: the effort
    given (`max`, `xhigh` -> "high"), else from a thinking budget (under 4,096
    tokens "low", under 16,384 "medium", else "high"), adaptive -> "medium";
    None when thinking is off or not asked for."""
    if reasoning is None or reasoning.mode == "disabled":
        return None
    if reasoning.effort is not None:
        return (
            reasoning.effort
            if reasoning.effort in EFFORTS or reasoning.effort == "none"
            else "high"
        )
    if reasoning.budget_tokens is not None:
        budget = reasoning.budget_tokens
        return "low" if budget < 4_096 else "medium" if budget < 16_384 else "high"
    return "medium" if reasoning.mode is not None else None


def asked_reasoning(request: Request) -> str | None:
    """How the client asked for reasoning, in its protocol's words, for a note."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    if request.front_door == "messages":
        return "output_config.effort" if reasoning.effort and reasoning.mode is None else "thinking"
    return "reasoning_effort"
