"""The Gemini mock speaks the wire format the official google-genai SDK parses.

The SDK needs no network beyond the mock: an API key (no Google credentials)
and `base_url` are enough. It defaults to API version v1, so the tests pin
v1beta, which is what the router calls.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.mocks.gemini_mock import create_app
from tests.mocks.scenarios import REPLY
from tests.mocks.server import MockState, ServerThread

API_KEY = "AIzaMockKey0123456789"
MODEL = "gemini-2.5-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="Current weather for a city",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}},
)
TOOLS = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, MockState]]:
    state = MockState()
    with ServerThread(create_app(state, api_key=API_KEY)) as server:
        yield server.url, state


@pytest.fixture
def state(served: tuple[str, MockState]) -> MockState:
    served[1].clear()
    return served[1]


def sdk(url: str, key: str = API_KEY) -> genai.Client:
    return genai.Client(
        api_key=key, http_options=types.HttpOptions(base_url=url, api_version="v1beta")
    )


@pytest.fixture
def client(served: tuple[str, MockState]) -> Iterator[genai.Client]:
    with sdk(served[0]) as client:
        yield client


def test_plain_request_echoes_and_reports_usage(client: genai.Client, state: MockState) -> None:
    response = client.models.generate_content(model=MODEL, contents="What is the answer?")
    assert response.text == "Echo: What is the answer?"
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count == 10
    assert response.usage_metadata.candidates_token_count == 5
    sent = state.last()
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == API_KEY


def test_tool_call_returns_a_function_call_the_sdk_reads(
    client: genai.Client, state: MockState
) -> None:
    response = client.models.generate_content(
        model=MODEL, contents="Weather in Paris? mock:tool_call", config=TOOLS
    )
    assert response.function_calls is not None
    (call,) = response.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert response.candidates is not None
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.candidates[0].content is not None

    # The SDK's own replay of the call and its answer is accepted.
    contents = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        response.candidates[0].content,
        types.Content(
            role="user",
            parts=[types.Part.from_function_response(name="get_weather", response={"temp": 18})],
        ),
    ]
    follow_up = client.models.generate_content(model=MODEL, contents=contents, config=TOOLS)
    assert follow_up.text == "Echo: Weather in Paris?"


def test_stream_arrives_in_chunks_with_cumulative_usage_and_a_final_finish(
    client: genai.Client, state: MockState
) -> None:
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="mock:chunks=4"))
    assert len(chunks) == 4
    assert "".join(c.text or "" for c in chunks) == REPLY
    reasons = [c.candidates[0].finish_reason if c.candidates else None for c in chunks]
    assert reasons == [None, None, None, types.FinishReason.STOP]
    counts = [c.usage_metadata.candidates_token_count if c.usage_metadata else None for c in chunks]
    assert counts == sorted(counts)
    assert counts[-1] == 5
    assert state.last().query == "alt=sse"


def test_error_429_raises_client_error_with_retry_info(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="mock:error_429")
    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"
    assert caught.value.details["error"]["details"][-1]["retryDelay"] == "7s"


def test_wrong_key_is_a_400_api_key_invalid(served: tuple[str, MockState]) -> None:
    with sdk(served[0], key="AIzaWrongKey") as client, pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="hi")
    assert caught.value.code == 400
    assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_function_response_without_an_earlier_call_is_rejected(client: genai.Client) -> None:
    answer = types.Part.from_function_response(name="get_weather", response={"temp": 18})
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(
            model=MODEL, contents=[types.Content(role="user", parts=[answer])], config=TOOLS
        )
    assert caught.value.code == 400
    assert "functionResponse" in (caught.value.message or "")


def test_blocked_prompt_has_no_candidates_and_a_block_reason(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="mock:blocked")
    assert not response.candidates
    assert response.prompt_feedback is not None
    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY


def test_client_leaving_mid_stream_is_counted(
    served: tuple[str, MockState], state: MockState
) -> None:
    url = f"{served[0]}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "mock:chunks=30"}]}]}
    with (
        httpx.Client() as http,
        http.stream("POST", url, json=body, headers={"x-goog-api-key": API_KEY}) as response,
    ):
        assert next(response.iter_lines()).startswith("data: ")
    deadline = time.monotonic() + 5
    while state.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state.disconnects == 1
