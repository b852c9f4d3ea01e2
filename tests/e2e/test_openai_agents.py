"""An agent of the `openai-agents` package with one function tool, through the
router's Responses API, on a non-OpenAI model (Claude, on the Anthropic mock).

The SDK is used as its docs show, with an `AsyncOpenAI` client pointed at the
router: it sends a Responses request with the tool, runs the tool when the
model calls it, sends the `function_call_output` back and ends on the model's
answer. Both calls are in analytics with their exact cost.
"""

from __future__ import annotations

import asyncio

from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI

from tests.conftest import Router
from tests.e2e.recorded import assert_recorded


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny and 21 C in {city}"


def _agent(client: AsyncOpenAI, model: str) -> Agent:
    return Agent(
        name="weather",
        instructions="Answer with the weather the tool gives.",
        tools=[get_weather],
        model=OpenAIResponsesModel(model=model, openai_client=client),
    )


def test_an_agent_with_a_function_tool_runs_on_claude_through_the_router(router: Router) -> None:
    set_tracing_disabled(True)  # the SDK would otherwise export traces to OpenAI
    key = router.new_key(name="agents-sdk")

    async def run() -> str:
        async with AsyncOpenAI(base_url=f"{router.url}/v1", api_key=key) as client:
            agent = _agent(client, "claude-haiku-4-5")
            result = await Runner.run(agent, "mock:tool_once What is the weather in Paris?")
            return str(result.final_output)

    assert asyncio.run(run()) == "Tool said: Sunny and 21 C in Paris"
    # The tool's result reached Claude as a tool_result of its tool_use.
    sent = router.anthropic.state.requests[-1].body
    last = sent["messages"][-1]["content"]
    assert last[0]["type"] == "tool_result" and last[0]["tool_use_id"] == "toolu_loop1"
    with router.client(key) as client:
        assert_recorded(
            client, calls=2, model="claude-haiku-4-5", provider="anthropic", front_door="responses"
        )


def test_a_streamed_agent_run_ends_on_the_same_answer(router: Router) -> None:
    set_tracing_disabled(True)
    key = router.new_key(name="agents-sdk-stream")

    async def run() -> str:
        async with AsyncOpenAI(base_url=f"{router.url}/v1", api_key=key) as client:
            agent = _agent(client, "claude-haiku-4-5")
            streamed = Runner.run_streamed(agent, "mock:tool_once What is the weather in Paris?")
            async for _event in streamed.stream_events():
                pass
            return str(streamed.final_output)

    assert asyncio.run(run()) == "Tool said: Sunny and 21 C in Paris"
    with router.client(key) as client:
        assert_recorded(
            client, calls=2, model="claude-haiku-4-5", provider="anthropic", front_door="responses"
        )
