"""The catalogue's models as demo traffic sees them: one `ModelPlan` each.

How popular a model is (`POPULARITY`: gpt-4o-mini far above the rest), how
fast it answers (`SPEED` by provider, quicker for mini/flash models, slower for
opus/pro ones), whether it reasons, and the price it is charged at.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from model_router.costs.catalogue import traits
from model_router.costs.models import price_of
from model_router.costs.pricing import Price
from model_router.db.models import Model, Provider

# Relative popularity of well-known models; any other model weighs 1.
POPULARITY: dict[str, float] = {
    "gpt-4o-mini": 30,
    "gpt-4.1-mini": 14,
    "gpt-4o": 12,
    "claude-sonnet-4-5": 10,
    "gemini-2.5-flash": 9,
    "gpt-5-mini": 8,
    "deepseek-chat": 7,
    "claude-haiku-4-5": 6,
    "gpt-4.1-nano": 5,
    "gemini-2.5-flash-lite": 5,
    "gpt-4.1": 5,
    "o4-mini": 4,
    "gpt-5": 4,
    "claude-sonnet-4-6": 4,
    "gemini-2.5-pro": 3,
    "deepseek-reasoner": 3,
    "o3": 2,
    "gpt-5-nano": 2,
    "deepseek-flash": 2,
    "claude-opus-4-5": 1.5,
    "deepseek-v4-pro": 1.5,
    "claude-opus-4-6": 1,
}

# Median time to first token (ms) and output speed (tokens/s), by provider.
SPEED: dict[str, tuple[float, float]] = {
    "openai": (380.0, 85.0),
    "anthropic": (650.0, 70.0),
    "gemini": (480.0, 140.0),
    "deepseek": (900.0, 45.0),
}
DEFAULT_SPEED = (700.0, 60.0)
FAST_HINTS = ("mini", "nano", "flash", "haiku", "lite")
SLOW_HINTS = ("opus", "pro", "o3")

NO_REASONING, HIDDEN_REASONING, VISIBLE_REASONING = 0, 1, 2


def reasoning_kind(model: str) -> int:
    """Reasoning models: OpenAI's o-series and GPT-5 (hidden), DeepSeek's reasoner (shown)."""
    if model == "deepseek-reasoner":
        return VISIBLE_REASONING
    if model.startswith(("o1", "o3", "o4", "gpt-5")):
        return HIDDEN_REASONING
    return NO_REASONING


@dataclass(frozen=True, slots=True)
class ModelPlan:
    """One catalogue model, and how its demo traffic behaves."""

    id: uuid.UUID
    name: str
    provider: str
    provider_id: uuid.UUID
    price: Price | None
    weight: float
    reasoning: int
    ttft_ms: float
    tokens_per_second: float

    @classmethod
    def of(cls, row: Model, provider: Provider) -> ModelPlan:
        ttft, speed = SPEED.get(provider.name, DEFAULT_SPEED)
        name = row.model_id
        if any(hint in name for hint in FAST_HINTS):
            ttft, speed = ttft * 0.7, speed * 1.6
        elif any(hint in name for hint in SLOW_HINTS):
            ttft, speed = ttft * 1.4, speed * 0.65
        return cls(
            id=row.id,
            name=name,
            provider=provider.name,
            provider_id=provider.id,
            price=price_of(row),
            weight=POPULARITY.get(name, 1.0),
            reasoning=reasoning_kind(name),
            ttft_ms=ttft,
            tokens_per_second=speed,
        )


async def load_plans(sessions: async_sessionmaker[AsyncSession]) -> list[ModelPlan] | None:
    """The active chat models in a stable order (demo traffic is chat: embedding
    models are left out); None when the catalogue is empty."""
    async with sessions() as session:
        found = list(
            await session.execute(
                select(Model, Provider)
                .join(Provider, Model.provider_id == Provider.id)
                .order_by(Provider.name, Model.model_id)
            )
        )
    if not found:
        return None
    return [
        ModelPlan.of(model, provider)
        for model, provider in found
        if model.is_active
        and provider.is_active
        and "embeddings" not in traits(provider.name, model.model_id)[1]
    ]
