"""One structured log line per request: JSON or text, never a key or (by default) a prompt."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Mock
from tests.helpers import chat
from tests.integration._serve import cli, new_key, router_env, serve

SECRET_PROMPT = "the launch code is swordfish-1234"


def _call(url: str, key: str, *, stream: bool = False) -> str:
    """One call; returns its request id."""
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}) as client:
        if not stream:
            reply = chat(client, SECRET_PROMPT)
            assert reply.status_code == 200
            return str(reply.json()["id"])
        body = {
            "model": "gpt-4o-mini",
            "stream": True,
            "messages": [{"role": "user", "content": f"{SECRET_PROMPT} mock:chunks=3"}],
        }
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        return str(json.loads(lines[0][6:])["id"])


def test_json_logs_have_one_line_per_request_without_key_or_prompt(
    tmp_path: Path, openai_upstream: Mock
) -> None:
    env = router_env(tmp_path, f"{openai_upstream.url}/v1", LOG_FORMAT="json")
    cli(env, "bootstrap")
    key = new_key(env)
    with serve(env) as served:
        plain = _call(served.url, key)
        streamed = _call(served.url, key, stream=True)
        assert served.stop() in (0, -15)
        output = served.output()

    records: list[dict[str, Any]] = [json.loads(line) for line in output.splitlines() if line]
    # Every line is JSON, uvicorn's included.
    assert any(r["logger"].startswith("uvicorn") for r in records)
    requests = [r for r in records if r["logger"] == "model_router.requests"]
    by_id = {r["request_id"]: r for r in requests}
    assert set(by_id) == {plain, streamed}
    line = by_id[plain]
    assert line["level"] == "info" and line["message"] == "request"
    assert line["key"] == key[:10]
    assert line["model"] == "gpt-4o-mini" and line["provider"] == "openai"
    assert line["status"] == "success" and line["http_status"] == 200
    assert line["input_tokens"] == 10 and line["output_tokens"] == 5
    assert Decimal(line["cost_usd"]) == Decimal("0.0000045")
    assert isinstance(line["latency_ms"], int)
    assert by_id[streamed]["stream"] is True and by_id[streamed]["ttft_ms"] is not None
    assert key not in output
    assert "swordfish" not in output


def test_text_logs_are_readable_and_prompts_appear_only_when_configured(
    tmp_path: Path, openai_upstream: Mock
) -> None:
    env = router_env(tmp_path, f"{openai_upstream.url}/v1", LOG_PROMPTS="true")
    cli(env, "bootstrap")
    key = new_key(env)
    with serve(env) as served:
        request_id = _call(served.url, key)
        served.stop()
        output = served.output()
    (line,) = [line for line in output.splitlines() if f"request_id={request_id}" in line]
    assert "INFO" in line and "model_router.requests: request" in line
    assert f"key={key[:10]}" in line
    assert "model=gpt-4o-mini" in line and "status=success" in line
    assert 'prompt="' in line and SECRET_PROMPT in line
    assert key not in output
