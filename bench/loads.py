"""What `make bench` sends: the upstream protocols of the mock, the router's
front doors, and how to tell a right answer from a wrong one.

A `Load` is one kind of request: a path, a body (the `body_template` of a wrk
script in bench/wrk/, also read here for the Python clients), a model, the
stream flag and any extra headers. The mock (nginx) answers every protocol
with a static file from bench/bodies/; the router reaches it through the
providers and models that harness.py sets up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from harness import BENCH, BenchError

WRK = BENCH / "wrk"
BODIES = BENCH / "bodies"
CHUNKS = 50  # content chunks in every stream of bench/bodies/
EMBEDDING_MODEL = "text-embedding-3-small"  # the catalogue's; its provider points at the mock


def expected_text() -> str:
    """The answer every mock body carries (bench/bodies/openai.json's content)."""
    body = json.loads((BODIES / "openai.json").read_text())
    return str(body["choices"][0]["message"]["content"])


@dataclass(frozen=True)
class Load:
    """One kind of request: where it goes, what it sends."""

    path: str
    script: str  # bench/wrk/<script>: its body_template is the body
    model: str
    stream: bool = False
    headers: tuple[str, ...] = ()  # extra "Name: value" headers

    def body(self) -> bytes:
        return body_of(self.script, self.model, self.stream)

    def header_dict(self, key: str) -> dict[str, str]:
        """The headers a Python client sends: those of bench/wrk/common.lua."""
        out = {"Content-Type": "application/json"}
        if key != "-":
            out.update({"Authorization": f"Bearer {key}", "x-api-key": key})
        for line in self.headers:
            name, _, value = line.partition(":")
            out[name.strip()] = value.strip()
        return out


def body_of(script: str, model: str, stream: bool) -> bytes:
    """The request body a wrk script sends (its `body_template`)."""
    source = (WRK / script).read_text()
    found = re.search(r"body_template = \[\[(.*?)\]\]", source, re.S)
    if found is None:
        raise BenchError(f"no body_template in {script}")
    text = found.group(1).replace("{{model}}", model).replace("{{stream}}", str(stream).lower())
    return text.encode()


@dataclass(frozen=True)
class Protocol:
    """An upstream wire format of the mock, and the router's chat models on it."""

    name: str
    script: str  # wrk script of the direct (native) request
    direct_path: str
    direct_stream_path: str
    upstream_model: str
    model: str  # router model of the non-streaming endpoint
    stream_model: str

    def direct(self, stream: bool) -> Load:
        path = self.direct_stream_path if stream else self.direct_path
        return Load(path, self.script, self.upstream_model, stream)

    def chat(self, stream: bool) -> Load:
        """The router's /v1/chat/completions to this protocol's mock."""
        model = self.stream_model if stream else self.model
        return Load("/v1/chat/completions", "openai.lua", model, stream)


PROTOCOLS = {
    "openai": Protocol(
        "openai", "openai.lua", "/openai/v1/chat/completions",
        "/openai-stream/v1/chat/completions", "gpt-4o-mini", "bench-openai", "bench-openai-stream",
    ),
    "anthropic": Protocol(
        "anthropic", "anthropic.lua", "/anthropic/v1/messages",
        "/anthropic-stream/v1/messages", "claude-haiku-4-5", "bench-claude", "bench-claude-stream",
    ),
    "gemini": Protocol(
        "gemini", "gemini.lua", "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        "gemini-2.5-flash", "bench-gemini", "bench-gemini",  # the URL says stream, not the model
    ),
}  # fmt: skip

# The mock's embeddings answer, direct (for the doors' "added" latency).
DIRECT_EMBEDDINGS = Load("/openai/v1/embeddings", "embeddings.lua", EMBEDDING_MODEL)


# --- answers ------------------------------------------------------------------------------


def sse_data(data: bytes) -> list[str]:
    """The `data:` payloads of an event stream (LF or CRLF framing)."""
    text = data.decode().replace("\r\n", "\n")
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


def check_chat(data: bytes, want_cost: bool = True) -> str | None:
    body = json.loads(data)
    content = body.get("content") or body["choices"][0]["message"]["content"]
    if content != expected_text():
        return f"content {content!r}"
    if want_cost and (body.get("usage") or {}).get("total_cost_usd") is None:
        return f"no total_cost_usd in usage {body.get('usage')}"
    return None


def check_chat_stream(data: bytes, want_cost: bool = True) -> str | None:
    """50 content chunks, then (the router's) usage with a cost, then [DONE]."""
    frames = sse_data(data)
    if not frames or frames[-1] != "[DONE]":
        return "no [DONE] at the end"
    chunks = [json.loads(f) for f in frames[:-1]]
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks if c.get("choices")]
    pieces = [p for p in pieces if p]
    if len(pieces) != CHUNKS or "".join(pieces) != expected_text():
        return f"{len(pieces)} content chunks (want {CHUNKS})"
    usage = chunks[-1].get("usage") or {}
    if want_cost and usage.get("total_cost_usd") is None:
        return f"usage {usage}"
    return None


def check_messages(data: bytes) -> str | None:
    body = json.loads(data)
    text = "".join(b.get("text", "") for b in body.get("content", []))
    return None if text == expected_text() else f"content {body.get('content')!r:.300}"


def check_responses(data: bytes) -> str | None:
    body = json.loads(data)
    parts = [
        p.get("text", "")
        for item in body.get("output", [])
        if item.get("type") == "message"
        for p in item.get("content", [])
    ]
    if "".join(parts) != expected_text() or body.get("status") != "completed":
        return f"status {body.get('status')}, output {body.get('output')!r:.300}"
    return None


def check_responses_stream(data: bytes) -> str | None:
    events = [json.loads(f) for f in sse_data(data) if f != "[DONE]"]
    deltas = [e["delta"] for e in events if e.get("type") == "response.output_text.delta"]
    if "".join(deltas) != expected_text() or len(deltas) != CHUNKS:
        return f"{len(deltas)} text deltas (want {CHUNKS})"
    if not events or events[-1].get("type") != "response.completed":
        return f"last event {events[-1].get('type') if events else None}"
    return None


def check_embeddings(data: bytes) -> str | None:
    body = json.loads(data)
    vectors = [d.get("embedding") for d in body.get("data", [])]
    if len(vectors) != 1 or not isinstance(vectors[0], list) or len(vectors[0]) != 1536:
        return f"data {str(body.get('data'))[:200]}"
    return None


def check_answer(what: str, data: bytes, check: Callable[[bytes], str | None]) -> None:
    try:
        problem = check(data)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:
        raise BenchError(f"{what}: {problem}\n{data[:800]!r}")


# --- the router's front doors ------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """A front door besides chat, measured like chat and compared with it."""

    name: str  # phase names are "<name> c1", "<name> c64"
    title: str
    load: Load
    chat: str  # chat to the same mock, measured beside it ("openai", "openai-stream", ...)
    direct: str  # the direct phase its added latency is counted from
    check: Callable[[bytes], str | None] = field(compare=False)


DOORS = (
    Door(
        "messages>openai", "/v1/messages → OpenAI mock",
        Load("/v1/messages", "anthropic.lua", "bench-openai"), "openai", "openai", check_messages,
    ),
    Door(
        "messages>anthropic", "/v1/messages → Anthropic mock",
        Load("/v1/messages", "anthropic.lua", "bench-claude"), "anthropic", "anthropic",
        check_messages,
    ),
    Door(
        "responses", "/v1/responses",
        Load("/v1/responses", "responses.lua", "bench-openai"), "openai", "openai", check_responses,
    ),
    Door(
        "responses-stream", "/v1/responses, streamed",
        Load("/v1/responses", "responses.lua", "bench-openai-stream", stream=True),
        "openai-stream", "openai-stream", check_responses_stream,
    ),
    Door(
        "embeddings", "/v1/embeddings",
        Load("/v1/embeddings", "embeddings.lua", EMBEDDING_MODEL), "openai", "embeddings",
        check_embeddings,
    ),
)  # fmt: skip


def chat_load(name: str) -> Load:
    """The router's chat load of a door's `chat` ("openai", "openai-stream", ...)."""
    return PROTOCOLS[name.removesuffix("-stream")].chat(name.endswith("-stream"))


def direct_loads() -> dict[str, Load]:
    """Every direct phase's load, by the name of the phase's protocol."""
    loads = {name: p.direct(False) for name, p in PROTOCOLS.items()}
    loads |= {f"{name}-stream": p.direct(True) for name, p in PROTOCOLS.items()}
    loads["embeddings"] = DIRECT_EMBEDDINGS
    return loads


def mock_files() -> list[tuple[str, str, str]]:
    """(path on the mock, file in bench/bodies, content type) that nginx must serve."""
    files = []
    for p in PROTOCOLS.values():
        files.append((p.direct_path, f"{p.name}.json", "application/json"))
        files.append((p.direct_stream_path, f"{p.name}.sse", "text/event-stream"))
    files += [
        ("/openai/v1/responses", "responses.json", "application/json"),
        ("/openai-stream/v1/responses", "responses.sse", "text/event-stream"),
        ("/openai/v1/embeddings", "embeddings.json", "application/json"),
    ]
    return files
