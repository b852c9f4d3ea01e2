"""The routing file is checked against the catalogue at start: a reference the
catalogue lacks is an error naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model_router.costs.models import Catalogue
from model_router.routing.config import RoutingConfigError, load_config
from model_router.routing.router import Router as ModelRouter
from tests.conftest import Router


def _validate(router: Router, path: Path) -> str | None:
    settings = router.settings.model_copy(update={"router_config": path})

    async def work(sessions: Any) -> str | None:
        catalogue = Catalogue(sessions, settings)
        await catalogue.load()
        try:
            ModelRouter(catalogue, load_config(path), settings).table.validate()
        except RoutingConfigError as exc:
            return str(exc)
        return None

    result: str | None = router.run(work)
    return result


@pytest.mark.parametrize(
    ("yaml", "where"),
    [
        (
            "models:\n  m:\n    deployments:\n      - provider: nope\n",
            ":4: models.m.deployments[0].provider: unknown provider 'nope'",
        ),
        (
            "models:\n  m:\n    deployments:\n      - provider: openai\n        model: gpt-9\n",
            ":4: models.m.deployments[0].model: the catalogue has no model 'gpt-9'",
        ),
        (
            "models:\n  gpt-4o:\n    fallbacks: [gpt-4o-mini, nowhere]\n",
            ":3: models.gpt-4o.fallbacks[1]: 'nowhere' is neither in the catalogue",
        ),
        (
            "models:\n  brand-new:\n    quality: 3\n",
            ":2: models.brand-new: not in the catalogue, so it needs deployments",
        ),
    ],
)
def test_a_reference_the_catalogue_lacks_fails_at_start(
    router: Router, tmp_path: Path, yaml: str, where: str
) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(yaml)
    message = _validate(router, path)
    assert message is not None and message.startswith(str(path)), message
    assert where in message


def test_a_good_file_validates(router: Router, tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        "models:\n  gpt-4o:\n    fallbacks: [claude-sonnet-4-5]\n    deployments:\n"
        "      - {provider: openai, weight: 2}\n      - {provider: azure, model: azure-gpt-4o}\n"
    )
    assert _validate(router, path) is None
