"""The openai provider against a real HTTP server on 127.0.0.1 whose replies, and faults,
each test scripts: 429 then 200, stalls, 401, 500, HTML, a connection cut mid-stream,
tool calls (good, unknown, malformed, endless)."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from netra.agents import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentThinking,
    MessageDelta,
    RunContext,
    ToolCompleted,
    ToolExecuting,
    Usage,
    create_agent,
    default_tools,
    run_agent,
)
from netra.agents.catalog.agents import ModelAgent
from netra.agents.providers.openai import BROKE_OFF, OpenAIAgent, describe_error
from netra.testing import ScriptedModelServer, answer_chunks, chunk
from tests.support.agents import collect
from tests.support.apps import SettingsFactory

SECRET = "sk-test-0123456789abcdef"


def agent_for(
    server: ScriptedModelServer, *, retries: int = 2, timeout: float = 5, max_steps: int = 4
) -> OpenAIAgent:
    client = AsyncOpenAI(
        api_key=SECRET, base_url=server.base_url, max_retries=retries, timeout=timeout
    )
    return OpenAIAgent(client, "scripted", default_tools(), max_steps=max_steps, secret=SECRET)


async def run(agent: OpenAIAgent, context: RunContext, timeout: float = 20) -> list[AgentEvent]:
    return await collect(run_agent(agent, [], "hello", context, timeout=timeout))


def call(index: int, call_id: str | None, name: str | None, arguments: str) -> dict[str, object]:
    entry: dict[str, object] = {"index": index, "function": {"arguments": arguments}}
    if call_id:
        entry["id"] = call_id
        entry["type"] = "function"
    if name:
        entry["function"] = {"name": name, "arguments": arguments}
    return entry


def final(events: list[AgentEvent]) -> AgentEvent:
    assert [e.type for e in events].count("agent_completed") + [e.type for e in events].count(
        "agent_error"
    ) == 1
    return events[-1]


async def test_streams_deltas_and_reports_usage(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse(answer_chunks("Hello there friend", usage=(11, 3))))
    events = await run(agent_for(scripted), context)
    assert events[0].type == "agent_started"
    assert [e.text for e in events if isinstance(e, MessageDelta)] == ["Hello ", "there ", "friend"]
    done = final(events)
    assert isinstance(done, AgentCompleted)
    assert done.text == "Hello there friend"
    assert done.usage == Usage(input_tokens=11, output_tokens=3)
    request = scripted.requests[0]
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}
    assert request["messages"][-1] == {"role": "user", "content": "hello"}
    assert {tool["function"]["name"] for tool in request["tools"]} == {
        "calculator",
        "current_time",
        "search_messages",
        "search_documents",
        "summarize_thread",
    }


async def test_reasoning_deltas_become_thinking_events(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    thinking = [chunk(), chunk()]
    thinking[0]["choices"][0]["delta"] = {"reasoning_content": "Multiply "}
    thinking[1]["choices"][0]["delta"] = {"reasoning": "the numbers."}
    scripted.script(scripted.sse([*thinking, *answer_chunks("391")]))
    events = await run(agent_for(scripted), context)
    assert [e.text for e in events if isinstance(e, AgentThinking)] == [
        "Multiply ",
        "the numbers.",
    ]
    done = final(events)
    assert isinstance(done, AgentCompleted)
    assert done.text == "391"


async def test_usage_is_estimated_when_the_server_sends_none(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse(answer_chunks("a b c d", usage=None)))
    done = final(await run(agent_for(scripted), context))
    assert isinstance(done, AgentCompleted)
    assert done.usage == Usage(output_tokens=4, estimated=True)


async def test_429_then_200_is_retried(scripted: ScriptedModelServer, context: RunContext) -> None:
    scripted.script(
        scripted.status(429, '{"error": {"message": "slow down"}}', {"retry-after-ms": "20"}),
        scripted.status(503, '{"error": {"message": "busy"}}', {"retry-after-ms": "20"}),
        scripted.sse(answer_chunks("ok")),
    )
    done = final(await run(agent_for(scripted, retries=2), context))
    assert isinstance(done, AgentCompleted)
    assert done.text == "ok"
    assert len(scripted.requests) == 3


@pytest.mark.parametrize(
    ("code", "body", "reason"),
    [
        (
            401,
            '{"error": {"message": "Incorrect API key provided: ' + SECRET + '"}}',
            "OPENAI_API_KEY",
        ),
        (
            429,
            '{"error": {"message": "quota"}}',
            "rate limiting requests (429) and retries ran out",
        ),
        (500, '{"error": {"message": "oops"}}', "answered 500 and retries ran out"),
        (404, '{"error": {"message": "no model"}}', "check OPENAI_MODEL"),
    ],
)
async def test_error_statuses_end_in_agent_error(
    scripted: ScriptedModelServer, context: RunContext, code: int, body: str, reason: str
) -> None:
    scripted.script(*[scripted.status(code, body, {"retry-after-ms": "10"})] * 3)
    done = final(await run(agent_for(scripted, retries=1), context))
    assert isinstance(done, AgentError)
    assert done.code == "provider_error"
    assert reason in done.reason
    assert SECRET not in done.reason


async def test_an_html_page_is_not_a_completion(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    page = "<html><body><h1>Welcome to nginx!</h1></body></html>"
    scripted.script(scripted.status(200, page, media_type="text/html"))
    done = final(await run(agent_for(scripted), context))
    assert isinstance(done, AgentError)
    assert "OpenAI-compatible" in done.reason


async def test_a_connection_cut_mid_stream(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse([chunk("partial")], cut=True))
    events = await run(agent_for(scripted), context)
    assert [e.text for e in events if isinstance(e, MessageDelta)] == ["partial"]
    done = final(events)
    assert isinstance(done, AgentError)
    assert "broke off" in done.reason or "before the answer was finished" in done.reason


def test_a_connection_lost_after_part_of_the_answer_broke_off() -> None:
    """The client reports a stream cut midway either as httpx's error or as its own
    connection error (it depends on where the read was): both broke off once part of
    the answer had come; before any of it, the server could not be reached; a timeout is
    a timeout either way."""
    request = httpx.Request("POST", "http://model.test/v1/chat/completions")
    lost = openai.APIConnectionError(request=request)
    cut = httpx.RemoteProtocolError("peer closed connection", request=request)
    late = openai.APITimeoutError(request=request)
    assert describe_error(lost, midway=True) == BROKE_OFF
    assert describe_error(cut, midway=True) == BROKE_OFF
    assert describe_error(cut) == BROKE_OFF
    assert describe_error(lost) == "Could not reach the model server (OPENAI_BASE_URL)."
    assert "OPENAI_TIMEOUT" in describe_error(late, midway=True)


async def test_a_stream_ending_without_finish(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse([chunk("half")], done=False))
    done = final(await run(agent_for(scripted), context))
    assert isinstance(done, AgentError)
    assert "before the answer was finished" in done.reason


async def test_a_stalled_stream_times_out(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse([chunk("slow")], stall=True))
    done = final(await run(agent_for(scripted, timeout=0.5, retries=0), context))
    assert isinstance(done, AgentError)
    assert "OPENAI_TIMEOUT" in done.reason
    await asyncio.wait_for(scripted.stream_closed.wait(), 5)


async def test_the_run_deadline_closes_the_upstream_stream(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse([chunk("slow")], stall=True))
    done = final(await run(agent_for(scripted, timeout=60), context, timeout=0.5))
    assert isinstance(done, AgentError)
    assert done.code == "timeout"
    await asyncio.wait_for(scripted.stream_closed.wait(), 5)


async def test_cancel_closes_the_upstream_stream(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    scripted.script(scripted.sse([chunk("first")], stall=True))
    running = run_agent(agent_for(scripted, timeout=60), [], "hi", context, timeout=60)
    events: list[AgentEvent] = []
    async for event in running:
        events.append(event)
        if isinstance(event, MessageDelta):
            running.cancel()
    done = final(events)
    assert isinstance(done, AgentError)
    assert done.code == "cancelled"
    await asyncio.wait_for(scripted.stream_closed.wait(), 5)


async def test_the_tool_loop(scripted: ScriptedModelServer, context: RunContext) -> None:
    scripted.script(
        scripted.sse(
            [
                chunk(tool_calls=[call(0, "call_a", "calculator", "")]),
                chunk(tool_calls=[call(0, None, None, '{"expression": ')]),
                chunk(tool_calls=[call(0, None, None, '"17 * 23"}')]),
                chunk(finish="tool_calls"),
                chunk(usage={"prompt_tokens": 11, "completion_tokens": 9, "total_tokens": 20}),
            ]
        ),
        scripted.sse(answer_chunks("It is 391")),
    )
    events = await run(agent_for(scripted), context)
    executing = next(e for e in events if isinstance(e, ToolExecuting))
    completed = next(e for e in events if isinstance(e, ToolCompleted))
    assert (executing.call_id, executing.tool) == ("call_a", "calculator")
    assert executing.arguments == {"expression": "17 * 23"}
    assert (completed.call_id, completed.result) == ("call_a", 391)
    done = final(events)
    assert isinstance(done, AgentCompleted)
    assert "391" in done.text
    follow_up = scripted.requests[1]["messages"]
    assert follow_up[-2]["tool_calls"][0]["function"] == {
        "name": "calculator",
        "arguments": '{"expression": "17 * 23"}',
    }
    assert follow_up[-1] == {
        "role": "tool",
        "tool_call_id": "call_a",
        "content": json.dumps({"result": 391}),
    }
    assert done.usage == Usage(input_tokens=22, output_tokens=12)


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("launch_missiles", "{}", "Unknown tool 'launch_missiles'"),
        ("calculator", '{"expression": "1+', "not valid JSON"),
        ("calculator", '{"expression": 42}', "Input should be a valid string"),
    ],
)
async def test_bad_tool_calls_go_back_to_the_model(
    scripted: ScriptedModelServer, context: RunContext, name: str, arguments: str, error: str
) -> None:
    scripted.script(
        scripted.sse(
            [chunk(tool_calls=[call(0, "c1", name, arguments)]), chunk(finish="tool_calls")]
        ),
        scripted.sse(answer_chunks("Sorry")),
    )
    events = await run(agent_for(scripted), context)
    completed = next(e for e in events if isinstance(e, ToolCompleted))
    assert completed.error is not None
    assert error in completed.error
    assert error in scripted.requests[1]["messages"][-1]["content"]
    assert isinstance(final(events), AgentCompleted)


async def test_a_model_that_keeps_calling_tools_is_stopped(
    scripted: ScriptedModelServer, context: RunContext
) -> None:
    loop = [
        chunk(tool_calls=[call(0, "c", "calculator", '{"expression": "1+1"}')]),
        chunk(finish="tool_calls"),
    ]
    scripted.script(*[scripted.sse(loop)] * 3)
    events = await run(agent_for(scripted, max_steps=3), context)
    assert sum(isinstance(e, ToolCompleted) for e in events) == 3
    done = final(events)
    assert isinstance(done, AgentError)
    assert done.code == "tool_error"
    assert "after 3 steps" in done.reason
    assert len(scripted.requests) == 3


async def test_unreachable_server(context: RunContext, caplog: pytest.LogCaptureFixture) -> None:
    client = AsyncOpenAI(api_key=SECRET, base_url="http://127.0.0.1:9/v1", max_retries=0)
    agent = OpenAIAgent(client, "m", default_tools())
    done = final(await run(agent, context))
    assert isinstance(done, AgentError)
    assert "Could not reach the model server (OPENAI_BASE_URL)" in done.reason
    assert "127.0.0.1" not in done.reason  # the user is not told where the server is
    assert "http://127.0.0.1:9/v1" in caplog.text  # the operator is


def test_create_agent_reads_the_settings(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        AGENT_PROVIDER="openai",
        OPENAI_BASE_URL="http://127.0.0.1:8080/v1",
        OPENAI_MODEL="smol",
        OPENAI_MAX_RETRIES="4",
        AGENT_MAX_STEPS="3",
    )
    model = create_agent(settings)
    assert isinstance(model, ModelAgent)
    assert (model.name, model.model) == ("openai", "smol")  # the one-model catalog
    agent = model.chain[0].agent
    assert isinstance(agent, OpenAIAgent)
    assert (agent.model, agent.max_steps) == ("smol", 3)
    assert agent.client.max_retries == 4
    assert str(agent.client.base_url) == "http://127.0.0.1:8080/v1/"
