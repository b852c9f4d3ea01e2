"""The pre-call token and cost estimate."""

from __future__ import annotations

from decimal import Decimal

from model_router.costs.pricing import Price, Rates
from model_router.domain.request import Request
from model_router.frontdoors.openai_chat_translate import to_request as door_request
from model_router.routing.tokens import (
    EXPECTED_OUTPUT_TOKENS,
    TOKENS_PER_IMAGE,
    estimate_cost,
    estimate_prompt_tokens,
    expected_output_tokens,
)


def _request(**body: object) -> Request:
    return door_request({"model": "m", **body})


def test_text_is_about_four_characters_a_token_plus_message_framing() -> None:
    request = _request(messages=[{"role": "user", "content": "x" * 400}])
    assert estimate_prompt_tokens(request) == 3 + 4 + 100


def test_images_and_tools_count() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    plain = _request(messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    with_image = _request(
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}]
    )
    assert estimate_prompt_tokens(with_image) - estimate_prompt_tokens(plain) == TOKENS_PER_IMAGE
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    with_tools = _request(
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}], tools=[tool]
    )
    assert estimate_prompt_tokens(with_tools) > estimate_prompt_tokens(plain)


def test_the_expected_output_is_max_tokens_or_a_default() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert expected_output_tokens(_request(messages=messages, max_tokens=50)) == 50
    assert expected_output_tokens(_request(messages=messages)) == EXPECTED_OUTPUT_TOKENS


def test_the_cost_estimate_is_exact_for_the_estimated_tokens_and_none_without_a_price() -> None:
    price = Price(Rates(Decimal("1"), Decimal("4")))
    assert estimate_cost(1_000_000, 500_000, price) == Decimal("3")
    assert estimate_cost(10, 10, None) is None
