"""Claude Code itself, through the router, as a new user would run it.

The real CLI (npm `@anthropic-ai/claude-code`, installed by `make test` under
tests/e2e/clients) runs headless (`claude -p`) with `ANTHROPIC_BASE_URL` set to
the router and a router key as `ANTHROPIC_AUTH_TOKEN`, in a temporary HOME,
with non-essential traffic off: it talks to nothing but the router. The task
makes it use its Read tool: the mock upstream answers the first call with a
`Read` of a file in the working directory, Claude Code reads it and sends the
result back, and the second answer quotes it. Once with an Anthropic model
(the Messages request goes on natively), once with Claude Code's model name
aliased in the routing file to an OpenAI model (translated through the core).
Every call is in analytics, recorded as a Messages call, with its exact cost.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from model_router.app import create_app
from tests.conftest import Router
from tests.e2e.recorded import assert_recorded
from tests.mocks.server import ServerThread

CLAUDE = Path(__file__).parent / "clients" / "node_modules" / ".bin" / "claude"
SECRET = "The secret word is pineapple."

# Claude Code's own name for its main model, sent to an OpenAI model instead.
ALIASED = """\
models:
  claude-sonnet-4-5:
    deployments:
      - name: sonnet-on-openai
        provider: openai
        model: gpt-4o-mini
"""


def _run_claude(base_url: str, key: str, model: str, workdir: Path, home: Path) -> dict[str, Any]:
    assert CLAUDE.exists(), f"{CLAUDE} is missing: `make test` installs it (make e2e-clients)"
    path = workdir / "hello.txt"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_AUTH_TOKEN": key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
    }
    prompt = f"mock:read_file Read the file {path} with the Read tool and tell me what it says."
    done = subprocess.run(
        [str(CLAUDE), "-p", prompt, "--model", model, "--output-format", "json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def workdir(tmp_path: Path) -> tuple[Path, Path]:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    (work / "hello.txt").write_text(SECRET + "\n")
    return work, home


def test_claude_code_uses_its_read_tool_through_the_router_on_an_anthropic_model(
    router: Router, workdir: tuple[Path, Path]
) -> None:
    key = router.new_key(name="claude-code")
    result = _run_claude(router.url, key, "claude-sonnet-4-5", *workdir)
    assert result["is_error"] is False, result
    assert SECRET in result["result"]
    # Natively to Anthropic: Claude Code's beta headers and fields went on untouched.
    sent = [r for r in router.anthropic.state.requests if r.path == "/v1/messages"][-2:]
    assert all("claude-code-20250219" in r.headers.get("anthropic-beta", "") for r in sent)
    assert all("context_management" in r.body for r in sent)
    with router.client(key) as client:
        assert_recorded(
            client, calls=2, model="claude-sonnet-4-5", provider="anthropic", front_door="messages"
        )


def test_claude_code_runs_on_an_openai_model_behind_an_alias_of_its_model_name(
    router: Router, workdir: tuple[Path, Path], tmp_path: Path
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(ALIASED)
    settings = router.settings.model_copy(update={"router_config": config})
    key = router.new_key(name="claude-code-aliased")
    with ServerThread(create_app(settings), lifespan="on") as server:
        result = _run_claude(server.url, key, "claude-sonnet-4-5", *workdir)
        assert result["is_error"] is False, result
        assert SECRET in result["result"]
        # The OpenAI upstream got a Chat Completions request with Claude Code's tools.
        sent = router.openai.state.requests[-1]
        assert sent.path == "/v1/chat/completions"
        assert sent.body["model"] == "gpt-4o-mini"
        assert any(t["function"]["name"] == "Read" for t in sent.body["tools"])
        assert sent.body["messages"][-1]["role"] == "tool"
        with httpx.Client(
            base_url=server.url, headers={"authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            # The row keeps the public name Claude Code asked for, priced as the model behind it.
            assert_recorded(
                client,
                calls=2,
                model="claude-sonnet-4-5",
                provider="openai",
                front_door="messages",
                priced_as="gpt-4o-mini",
            )
