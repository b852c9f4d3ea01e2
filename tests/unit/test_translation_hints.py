"""Hints a target cannot take, on Claude Code's captured requests: mapped to
the target's equivalent, or dropped or clamped and noted in `request.dropped`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model_router.domain.request import ReasoningConfig, Request
from model_router.errors import UnsupportedFeature
from model_router.frontdoors.anthropic_messages import MessagesDoor
from model_router.providers.anthropic.translate import to_request as anthropic_body
from model_router.providers.base import Target
from model_router.providers.gemini.translate import to_request as gemini_body
from model_router.providers.hints import effort
from model_router.providers.openai_body import body_from_request

CLAUDE_CODE = Path(__file__).parents[1] / "fixtures" / "claude_code"


def claude_code(name: str, **changes: Any) -> Request:
    body = json.loads((CLAUDE_CODE / name).read_text()) | changes
    return MessagesDoor().to_request(body, {})


def test_gemini_gets_a_thinking_budget_and_a_clamped_output_limit() -> None:
    request = claude_code("read_tool_followup_request.json")  # max_tokens 32,000, budget 31,999
    payload = gemini_body(request, Target("gemini-2.5-flash", max_output_tokens=8_192))
    config = payload["generationConfig"]
    assert config["maxOutputTokens"] == 8_192
    assert config["thinkingConfig"] == {"thinkingBudget": 31_999, "includeThoughts": True}
    assert "max_tokens clamped to 8192" in request.dropped
    assert {"cache_control", "context_management", "metadata.user_id"} <= set(request.dropped)
    assert "thinking" not in request.dropped  # mapped, not dropped


def test_gemini_takes_anthropic_efforts_and_adaptive_thinking() -> None:
    request = claude_code(
        "say_hi_request.json", thinking={"type": "adaptive"}, output_config={"effort": "max"}
    )
    payload = gemini_body(request, Target("gemini-3-pro"))
    assert payload["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "high"
    adaptive = claude_code("say_hi_request.json", thinking={"type": "adaptive"})
    config = gemini_body(adaptive, Target("gemini-2.5-flash"))["generationConfig"]
    assert config["thinkingConfig"]["thinkingBudget"] == -1


def test_anthropic_clamps_max_tokens_and_drops_unsigned_thinking_natively() -> None:
    request = claude_code("read_tool_followup_request.json")
    assert request.native is not None
    turns = request.native.body["messages"]
    assistant = next(i for i, m in enumerate(turns) if m["role"] == "assistant")
    unsigned = {"type": "thinking", "thinking": "from another provider", "signature": ""}
    turns[assistant]["content"].insert(0, unsigned)
    payload = anthropic_body(
        request, Target("claude-haiku-4-5", max_output_tokens=16_000), stream=True
    )
    assert payload["max_tokens"] == 16_000
    sent = payload["messages"][assistant]["content"]
    assert unsigned not in sent
    assert any(b["type"] == "thinking" and b["signature"] for b in sent)  # the signed one stays
    assert request.dropped == ["max_tokens clamped to 16000", "thinking blocks without a signature"]
    assert payload["context_management"] == request.native.body["context_management"]


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        (ReasoningConfig(budget_tokens=1_024, mode="enabled"), "low"),
        (ReasoningConfig(budget_tokens=8_000, mode="enabled"), "medium"),
        (ReasoningConfig(budget_tokens=31_999, mode="enabled"), "high"),
        (ReasoningConfig(mode="adaptive"), "medium"),
        (ReasoningConfig(effort="max"), "high"),
        (ReasoningConfig(effort="low"), "low"),
        (ReasoningConfig(mode="disabled"), None),
    ],
)
def test_one_effort_for_every_way_of_asking_for_reasoning(
    reasoning: ReasoningConfig, expected: str | None
) -> None:
    assert effort(reasoning) == expected


def test_a_text_only_model_refuses_images_and_pdfs_but_not_text_documents() -> None:
    pdf = {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}
    for block, refused in (
        ({"type": "document", "source": pdf}, True),
        (
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "x"},
            },
            False,
        ),
    ):
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}
        request = MessagesDoor().to_request(body, {})
        text_only = Target("deepseek-flash", reads_images=False)
        if refused:
            with pytest.raises(UnsupportedFeature, match="reads text only"):
                body_from_request(request, text_only)
        else:
            sent = body_from_request(request, text_only)["messages"][0]["content"]
            assert sent == [{"type": "text", "text": "x"}]
