"""A public model name with its deployments and its fallback chain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from model_router.costs.models import ModelInfo
from model_router.routing.deployments import Deployment


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    deployments: Sequence[Deployment]
    fallbacks: tuple[str, ...] = ()

    @property
    def info(self) -> ModelInfo:
        """What the model is (window, price, tier, capabilities): its first deployment's."""
        return self.deployments[0].model

    @property
    def embeds(self) -> bool:
        """An embedding model: for POST /v1/embeddings only, never for chat."""
        return "embeddings" in self.info.capabilities
