"""OpenTelemetry: spans reach a real OTLP/HTTP receiver as a request -> attempt tree."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from model_router.app import create_app
from tests.conftest import Routed, Router
from tests.helpers import chat, sse_lines
from tests.mocks.server import ServerThread


class Receiver:
    """A minimal OTLP/HTTP collector: POST /v1/traces, protobuf bodies."""

    def __init__(self) -> None:
        self.spans: list[tuple[dict[str, Any], Span]] = []  # (resource attributes, span)
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                receiver.paths.append(self.path)
                request = ExportTraceServiceRequest.FromString(raw)
                for resource_spans in request.resource_spans:
                    resource = attributes(resource_spans.resource.attributes)
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend((resource, s) for s in scope_spans.spans)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def trace_of(self, request_id: str, timeout: float = 10.0) -> tuple[Span, list[Span]]:
        """The request span whose request id is `request_id`, and its children."""
        deadline = time.monotonic() + timeout
        while True:
            roots = [
                s
                for _, s in self.spans
                if attributes(s.attributes).get("model_router.request_id") == request_id
            ]
            if roots:
                root = roots[0]
                children = [s for _, s in self.spans if s.parent_span_id == root.span_id]
                if children:
                    return root, children
            assert time.monotonic() < deadline, f"no trace for {request_id}: {self.spans}"
            time.sleep(0.05)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def attributes(items: Any) -> dict[str, Any]:
    return {item.key: _value(item.value) for item in items}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def traced(router: Router, receiver: Receiver) -> Iterator[str]:
    """A second router on the same database, exporting spans to the receiver."""
    settings = router.settings.model_copy(
        update={
            "otel_exporter_otlp_endpoint": receiver.url,
            "otel_service_name": "router-under-test",
            "otel_bsp_schedule_delay": 50,
        }
    )
    with ServerThread(create_app(settings), lifespan="on") as server:
        yield server.url


def test_a_call_is_a_request_span_with_one_attempt_span_per_upstream_call(
    traced: str, receiver: Receiver, user_key: str
) -> None:
    with httpx.Client(base_url=traced, headers={"authorization": f"Bearer {user_key}"}) as api:
        reply = chat(api, "trace me", max_tokens=50, temperature=0.5)
    assert reply.status_code == 200
    root, children = receiver.trace_of(reply.json()["id"])

    assert root.kind == Span.SPAN_KIND_SERVER
    assert root.name == "chat gpt-4o-mini"
    attrs = attributes(root.attributes)
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.input_tokens"] == reply.json()["usage"]["prompt_tokens"]
    assert attrs["gen_ai.usage.output_tokens"] == reply.json()["usage"]["completion_tokens"]
    assert attrs["http.response.status_code"] == 200
    assert attrs["model_router.key"] == user_key[:10]
    assert user_key not in str(receiver.spans)

    (attempt,) = children
    assert attempt.kind == Span.SPAN_KIND_CLIENT
    assert attempt.trace_id == root.trace_id
    a = attributes(attempt.attributes)
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "gpt-4o-mini"
    assert a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.request.max_tokens"] == 50
    assert a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.usage.input_tokens"] == 10 and a["gen_ai.usage.output_tokens"] == 5
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert attempt.start_time_unix_nano >= root.start_time_unix_nano
    assert attempt.end_time_unix_nano <= root.end_time_unix_nano
    resource = next(r for r, s in receiver.spans if s.span_id == root.span_id)
    assert resource["service.name"] == "router-under-test"
    assert set(receiver.paths) == {"/v1/traces"}


def test_a_stream_span_covers_the_stream_and_its_usage(
    traced: str, receiver: Receiver, user_key: str
) -> None:
    body = {"model": "claude-haiku-4-5", "stream": True}
    body["messages"] = [{"role": "user", "content": "mock:chunks=3"}]
    with (
        httpx.Client(base_url=traced, headers={"authorization": f"Bearer {user_key}"}) as api,
        api.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.status_code == 200
        lines = sse_lines(response)
    assert lines[-1] == "[DONE]"
    request_id = httpx.Response(200, content=lines[0]).json()["id"]
    root, (attempt,) = receiver.trace_of(request_id)
    assert attributes(root.attributes)["gen_ai.provider.name"] == "anthropic"
    assert attributes(root.attributes)["model_router.ttft_ms"] >= 0
    a = attributes(attempt.attributes)
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["model_router.stream"] is True
    assert a["gen_ai.usage.output_tokens"] > 0
    # The attempt ends with the stream, inside the request span.
    assert attempt.end_time_unix_nano <= root.end_time_unix_nano


def test_a_failed_attempt_is_an_error_span_and_the_callers_trace_is_continued(
    traced: str, receiver: Receiver, user_key: str
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {
        "authorization": f"Bearer {user_key}",
        "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
    }
    with httpx.Client(base_url=traced, headers=headers) as api:
        reply = chat(api, "mock:error_400", model="gpt-4.1-mini")
    assert reply.status_code == 400
    deadline = time.monotonic() + 10
    while True:
        ours = [s for _, s in receiver.spans if s.trace_id.hex() == trace_id]
        roots = [s for s in ours if s.kind == Span.SPAN_KIND_SERVER]
        attempts = [s for s in ours if roots and s.parent_span_id == roots[0].span_id]
        if attempts or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (root,) = roots
    assert root.parent_span_id.hex() == "00f067aa0ba902b7"
    assert root.status.code == root.status.STATUS_CODE_ERROR
    assert attempts and all(s.status.code == s.status.STATUS_CODE_ERROR for s in attempts)
    assert attributes(attempts[0].attributes)["http.response.status_code"] == 400


def test_retries_and_fallbacks_are_one_attempt_span_each(
    routed: Routed, receiver: Receiver, user_key: str
) -> None:
    settings = routed.settings.model_copy(
        update={"otel_exporter_otlp_endpoint": receiver.url, "otel_bsp_schedule_delay": 50}
    )
    # `chain`: one deployment on mock A with two retries, then `backup` on mock B.
    routed.a.state.script = ["error_500"] * 3
    with (
        ServerThread(create_app(settings), lifespan="on") as server,
        httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {user_key}"}) as api,
    ):
        reply = chat(api, "try hard", model="chain")
        assert reply.status_code == 200
        root, attempts = receiver.trace_of(reply.json()["id"])
    attempts.sort(key=lambda s: s.start_time_unix_nano)
    error, unset = Status.STATUS_CODE_ERROR, Status.STATUS_CODE_UNSET
    assert [s.status.code for s in attempts] == [error, error, error, unset]
    statuses = [attributes(s.attributes).get("http.response.status_code") for s in attempts]
    assert statuses[:3] == [500, 500, 500]
    assert attributes(root.attributes)["http.response.status_code"] == 200


def _spans_of_trace(receiver: Receiver, trace_id: str, count: int) -> list[Span]:
    deadline = time.monotonic() + 10
    while len(ours := [s for _, s in receiver.spans if s.trace_id.hex() == trace_id]) < count:
        assert time.monotonic() < deadline, f"{len(ours)} of {count} spans of {trace_id}"
        time.sleep(0.05)
    return ours


def test_an_embeddings_call_is_a_request_span_over_a_client_span_with_its_usage(
    traced: str, receiver: Receiver, user_key: str
) -> None:
    trace_id = "5bf92f3577b34da6a3ce929d0e0e4737"
    headers = {
        "authorization": f"Bearer {user_key}",
        "traceparent": f"00-{trace_id}-00f067aa0ba902b8-01",
    }
    with httpx.Client(base_url=traced, headers=headers) as api:
        reply = api.post(
            "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "trace my vector"}
        )
    assert reply.status_code == 200, reply.text
    spans = _spans_of_trace(receiver, trace_id, 2)
    (root,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    (attempt,) = [s for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    assert root.name == attempt.name == "embeddings text-embedding-3-small"
    assert attempt.parent_span_id == root.span_id
    r = attributes(root.attributes)
    assert r["url.path"] == "/v1/embeddings" and r["gen_ai.operation.name"] == "embeddings"
    assert r["http.response.status_code"] == 200 and r["model_router.cost_usd"] > 0
    a = attributes(attempt.attributes)
    assert a["gen_ai.operation.name"] == "embeddings" and a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.usage.input_tokens"] == reply.json()["usage"]["prompt_tokens"] == 3


def test_a_messages_call_is_a_request_span_on_its_own_path(
    traced: str, receiver: Receiver, user_key: str
) -> None:
    trace_id = "6bf92f3577b34da6a3ce929d0e0e4738"
    headers = {"x-api-key": user_key, "traceparent": f"00-{trace_id}-00f067aa0ba902b9-01"}
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": "trace my message"}],
    }
    with httpx.Client(base_url=traced, headers=headers) as api:
        reply = api.post("/v1/messages", json=body)
    assert reply.status_code == 200, reply.text
    spans = _spans_of_trace(receiver, trace_id, 2)
    (root,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert root.name == "chat claude-haiku-4-5"
    assert attributes(root.attributes)["url.path"] == "/v1/messages"
