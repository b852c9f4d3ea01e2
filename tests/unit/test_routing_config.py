"""The routing file: what it may say, and errors that name the line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_router.routing.config import RoutingConfigError, load_config, parse_config

GOOD = """\
default_model: gpt-4o
models:
  gpt-4o-mini:
    fallbacks: [claude-haiku-4-5, gemini-2.5-flash]
    deployments:
      - name: openai-main
        provider: openai
        weight: 3
      - name: openai-backup
        provider: openai
        api_key_setting: OPENAI_API_KEY_2
        base_url: https://backup.example.com/v1
        upstream_model: gpt-4o-mini-2024-07-18
        weight: 1
        rpm: 500
        tpm: 200000
  claude-haiku-4-5:
    quality: 4
    capabilities: [tools, streaming]
  gemini-2.5-flash:
"""


def test_a_good_file_is_read_field_by_field() -> None:
    config = parse_config(GOOD, "routing.yaml")
    assert config.default_model == "gpt-4o"
    mini = config.routes["gpt-4o-mini"]
    assert mini.fallbacks == ("claude-haiku-4-5", "gemini-2.5-flash")
    main, backup = mini.deployments
    assert (main.name, main.provider, main.weight, main.line) == ("openai-main", "openai", 3.0, 6)
    assert backup.api_key_setting == "OPENAI_API_KEY_2"
    assert backup.base_url == "https://backup.example.com/v1"
    assert backup.upstream_model == "gpt-4o-mini-2024-07-18"
    assert (backup.rpm, backup.tpm) == (500, 200_000)
    haiku = config.routes["claude-haiku-4-5"]
    assert haiku.quality == 4 and haiku.capabilities == {"tools", "streaming"}
    assert config.routes["gemini-2.5-flash"].deployments == ()


def test_an_unnamed_deployment_is_named_after_its_provider_and_model() -> None:
    config = parse_config("models:\n  m:\n    deployments:\n      - provider: openai\n")
    assert config.routes["m"].deployments[0].name == "openai/m"


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (
            "models:\n  m:\n    deployments:\n      - weight: 1\n",
            4,
            "models.m.deployments[0].provider",
            "required",
        ),
        (
            "models:\n  m:\n    deployments:\n      - provider: openai\n        weight: -2\n",
            5,
            "models.m.deployments[0].weight",
            "greater than 0",
        ),
        (
            "models:\n  m:\n    deployments:\n      - provider: openai\n        rpm: 1.5\n",
            5,
            "models.m.deployments[0].rpm",
            "an integer",
        ),
        (
            "models:\n  m:\n    deployments:\n      - provider: openai\n        colour: red\n",
            5,
            "models.m.deployments[0].colour",
            "unknown field",
        ),
        (
            "models:\n  m:\n    deployments:\n      - provider: openai\n        base_url: ftp://x\n",
            5,
            "models.m.deployments[0].base_url",
            "http(s) URL",
        ),
        ("models:\n  m:\n    fallbacks: nope\n", 3, "models.m.fallbacks", "a list"),
        ("models:\n  m:\n    fallbacks: [m]\n", 3, "models.m.fallbacks", "itself"),
        ("models:\n  m:\n    quality: 7\n", 3, "models.m.quality", "1 to 5"),
        ("models:\n  m:\n    capabilities: [telepathy]\n", 3, "models.m.capabilities", "telepathy"),
        ("models:\n  m:\n    deployments: []\n", 3, "models.m.deployments", "non-empty"),
        ("modles:\n  m: {}\n", 1, "(top).modles", "unknown field"),
        ("models: [a, b]\n", 1, "models", "a mapping"),
        ("models:\n  m:\n    deployments:\n  - provider: [\n", 4, "(syntax)", ""),
        (
            "models:\n  a:\n    deployments:\n      - {name: x, provider: openai}\n"
            "  b:\n    deployments:\n      - {name: x, provider: openai}\n",
            7,
            "models.b.deployments[0].name",
            "already used on line 4",
        ),
    ],
)
def test_errors_name_the_line_and_the_field(text: str, line: int, field: str, problem: str) -> None:
    with pytest.raises(RoutingConfigError) as caught:
        parse_config(text, "routing.yaml")
    error = caught.value
    assert (error.line, error.field) == (line, field), str(error)
    assert str(error).startswith(f"routing.yaml:{line}: {field}: ")
    assert problem in str(error)


def test_no_file_is_the_default_configuration() -> None:
    config = load_config(None)
    assert config.routes == {} and config.default_model is None


def test_an_empty_file_is_the_default_configuration(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("")
    assert load_config(path).routes == {}


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="ROUTER_CONFIG: cannot read"):
        load_config(tmp_path / "nope.yaml")
