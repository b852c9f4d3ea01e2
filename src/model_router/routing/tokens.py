"""The pre-call token estimate, for context-window checks and `auto`'s cost ranking.

No tokenizer ships with the router (none is installed offline, and the
vendors' own tokenizers differ), so the estimate is OpenAI's documented rule
of thumb: about 4 characters a token for English text, plus the framing each
message costs (about 4 tokens, as OpenAI's cookbook counts for chat models),
plus a fixed 765 tokens per image (a 1024x1024 high-detail image on GPT-4o,
the most an image usually costs), plus tool definitions at the same rate as
text. It errs high for code and non-English text, which is the safe side for a
context-window check. The cost after the call is always exact: it is computed
from the provider's reported usage.
"""

from __future__ import annotations

from decimal import Decimal

import orjson

from model_router.costs.pricing import Price, cost
from model_router.domain import Usage
from model_router.domain.content import Image, ToolCall
from model_router.domain.request import Request
from model_router.providers.openai_body import tool_json

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_IMAGE = 765
# What `auto` assumes a reply costs when the request sets no max_tokens.
EXPECTED_OUTPUT_TOKENS = 256


def _tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def estimate_prompt_tokens(request: Request) -> int:
    total = 3  # every reply is primed with a few tokens
    for message in request.messages:
        total += TOKENS_PER_MESSAGE + _tokens(len(message.text()))
        for part in message.parts:
            if isinstance(part, Image):
                total += TOKENS_PER_IMAGE
            elif isinstance(part, ToolCall):
                total += _tokens(len(part.name) + len(part.arguments))
    if request.tools:
        total += _tokens(len(orjson.dumps([tool_json(t) for t in request.tools])))
    return total


def expected_output_tokens(request: Request) -> int:
    return request.max_output_tokens or EXPECTED_OUTPUT_TOKENS


def estimate_cost(prompt_tokens: int, output_tokens: int, price: Price | None) -> Decimal | None:
    """The cost of a call of this size at `price`; None when the price is unknown."""
    priced = cost(Usage(input_tokens=prompt_tokens, output_tokens=output_tokens), price)
    return priced.total_usd if priced else None
