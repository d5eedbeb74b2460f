"""Streamed `tool_calls` reassembly, on transcripts of real streams (tests/agents/transcripts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk

from netra.agents import AgentCompleted, RunContext, ToolCompleted, ToolExecuting, default_tools
from netra.agents.providers.openai import OpenAIAgent
from netra.agents.run import run_agent
from netra.agents.toolcalls import ToolCallAccumulator
from netra.testing import ScriptedModelServer, answer_chunks
from tests.support.agents import collect

TRANSCRIPTS = Path(__file__).parent / "transcripts"


def transcript(name: str) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = json.loads((TRANSCRIPTS / name).read_text())["chunks"]
    return chunks


def accumulate(chunks: list[dict[str, Any]]) -> ToolCallAccumulator:
    accumulator = ToolCallAccumulator()
    for raw in chunks:
        for choice in ChatCompletionChunk.model_validate(raw).choices:
            if choice.delta.tool_calls:
                accumulator.add(choice.delta.tool_calls)
    return accumulator


def test_llama_cpp_repeats_id_and_name_on_every_chunk() -> None:
    calls = accumulate(transcript("llama_cpp_forced_tool_call.json")).calls()
    assert len(calls) == 1
    assert calls[0].id.startswith("call__0_calculator_")
    assert calls[0].name == "calculator"
    assert json.loads(calls[0].arguments) == {"expression": "17 * 23"}


def test_openai_parallel_calls_with_fragmented_arguments() -> None:
    calls = accumulate(transcript("openai_parallel_tool_calls.json")).calls()
    assert [(c.index, c.id, c.name) for c in calls] == [
        (0, "call_PieqNSej6kM9hgYbcQdbZSaC", "current_time"),
        (1, "call_Qw3rTyU1oP9aSdFgHjKl0Zx", "calculator"),
    ]
    assert [json.loads(c.arguments) for c in calls] == [
        {"timezone": "Europe/Paris"},
        {"expression": "17 * 23"},
    ]


def test_calls_without_ids_get_one() -> None:
    chunks = transcript("openai_parallel_tool_calls.json")
    for raw in chunks:
        for choice in raw["choices"]:
            for call in choice["delta"].get("tool_calls") or []:
                call.pop("id", None)
    calls = accumulate(chunks).calls()
    assert len({c.id for c in calls}) == 2
    assert all(c.id.startswith("call_") for c in calls)


def test_no_tool_calls_is_falsy() -> None:
    assert not accumulate(answer_chunks("just text"))


@pytest.mark.parametrize(
    ("name", "tools"),
    [
        ("llama_cpp_forced_tool_call.json", ["calculator"]),
        ("openai_parallel_tool_calls.json", ["current_time", "calculator"]),
    ],
)
async def test_replayed_transcripts_drive_the_tool_loop(
    scripted: ScriptedModelServer, context: RunContext, name: str, tools: list[str]
) -> None:
    scripted.script(scripted.sse(transcript(name)), scripted.sse(answer_chunks("Done.")))
    client = AsyncOpenAI(api_key="k", base_url=scripted.base_url, max_retries=0)
    agent = OpenAIAgent(client, "m", default_tools())
    events = await collect(run_agent(agent, [], "q", context, timeout=10))
    assert [e.tool for e in events if isinstance(e, ToolExecuting)] == tools
    results = [e for e in events if isinstance(e, ToolCompleted)]
    assert all(e.error is None for e in results)
    assert 391 in [e.result for e in results]
    assert isinstance(events[-1], AgentCompleted)
    tool_messages = [m for m in scripted.requests[1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == len(tools)
