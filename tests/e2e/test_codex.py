"""The Codex CLI itself, through the router's Responses API, as a new user runs it.

The real CLI (npm `@openai/codex`, installed by `make test` under
tests/e2e/clients) runs `codex exec` with a model provider pointing at the
router (`wire_api = "responses"`) and a router key, in a temporary
CODEX_HOME and HOME. The task makes it call its shell tool: the mock upstream
answers the first call with `exec_command` running `cat hello.txt`, Codex runs
it and sends the output back, and the second answer quotes it. The model is
an OpenAI one served through the core (Chat Completions upstream), so Codex's
OpenAI-only `web_search` tool is dropped and its `namespace` of function tools
flattened, as docs/api.md says. Every call is in analytics with its exact cost.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import Router
from tests.e2e.recorded import assert_recorded

CODEX = Path(__file__).parent / "clients" / "node_modules" / ".bin" / "codex"
SECRET = "The secret word is pineapple."

CONFIG = """\
model = "{model}"
model_provider = "router"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.router]
name = "router"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "ROUTER_KEY"
"""


def test_codex_exec_runs_its_shell_tool_through_the_router(router: Router, tmp_path: Path) -> None:
    assert CODEX.exists(), f"{CODEX} is missing: `make test` installs it (make e2e-clients)"
    work, home, codex_home = tmp_path / "work", tmp_path / "home", tmp_path / "codex"
    for folder in (work, home, codex_home):
        folder.mkdir()
    (work / "hello.txt").write_text(SECRET + "\n")
    (codex_home / "config.toml").write_text(CONFIG.format(model="gpt-4o-mini", url=router.url))
    key = router.new_key(name="codex")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CODEX_HOME": str(codex_home),
        "ROUTER_KEY": key,
    }
    done = subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", "mock:exec_cat Show me what hello.txt says"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout
    assert SECRET in done.stdout, done.stdout + done.stderr[-3000:]
    # The upstream got Codex's shell tool, and its output back as a tool message.
    sent = router.openai.state.requests[-1]
    assert sent.body["model"] == "gpt-4o-mini"
    names = [t["function"]["name"] for t in sent.body["tools"]]
    assert "exec_command" in names and "web_search" not in names
    assert sent.body["messages"][-1]["role"] == "tool"
    assert SECRET in str(sent.body["messages"][-1]["content"])
    with router.client(key) as client:
        assert_recorded(
            client, calls=2, model="gpt-4o-mini", provider="openai", front_door="responses"
        )
