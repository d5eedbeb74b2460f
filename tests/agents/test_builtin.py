from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from netra.agents import (
    AgentCompleted,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    MessageDelta,
    ToolCompleted,
    ToolExecuting,
    create_agent,
    default_tools,
    run_agent,
)
from netra.agents.providers.builtin import CAPABILITIES, BuiltinAgent
from tests.support.agents import MemoryUserData, StoredMessage, collect, make_context
from tests.support.apps import SettingsFactory


async def ask(
    message: str, data: MemoryUserData | None = None, timezone: str = "UTC"
) -> list[AgentEvent]:
    agent = BuiltinAgent(default_tools())
    return await collect(run_agent(agent, [], message, make_context(data, timezone), timeout=5))


def answer_of(events: list[AgentEvent]) -> str:
    final = events[-1]
    assert isinstance(final, AgentCompleted)
    streamed = "".join(e.text for e in events if isinstance(e, MessageDelta))
    assert streamed == final.text
    return final.text


async def test_arithmetic_calls_the_calculator() -> None:
    events = await ask("what is 17 * 23?")
    assert [e.type for e in events[:5]] == [
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "message_delta",
    ]
    assert isinstance(events[0], AgentStarted)
    assert events[0].provider == "builtin"
    executing, completed = events[2], events[3]
    assert isinstance(executing, ToolExecuting)
    assert isinstance(completed, ToolCompleted)
    assert executing.tool == completed.tool == "calculator"
    assert executing.call_id == completed.call_id
    assert executing.arguments == {"expression": "17 * 23"}
    assert completed.result == 391
    assert "391" in answer_of(events)
    assert sum(isinstance(e, MessageDelta) for e in events) > 1


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what is 9**9**9?", "I couldn't do that: The result is too large."),
        ("compute 1/0", "I couldn't do that: Division by zero."),
        ("what is " + "(" * 45 + "1 + 1" + ")" * 45, "nested deeper than 40 levels"),
    ],
)
async def test_bad_arithmetic_ends_with_an_explanation(question: str, expected: str) -> None:
    events = await ask(question)
    completed = next(e for e in events if isinstance(e, ToolCompleted))
    assert completed.error is not None
    assert expected in answer_of(events)


async def test_time_question_uses_the_zone_asked_for_or_the_users() -> None:
    events = await ask("What time is it in Asia/Tokyo?")
    completed = next(e for e in events if isinstance(e, ToolCompleted))
    assert completed.tool == "current_time"
    assert completed.result["timezone"] == "Asia/Tokyo"
    today = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y")
    assert today in answer_of(events)
    events = await ask("what's the date today?", timezone="Europe/Paris")
    assert "(Europe/Paris)" in answer_of(events)
    events = await ask("What time is it in New York?")
    assert "(America/New_York)" in answer_of(events)
    events = await ask("What time is it in Atlantis?")
    assert "Unknown time zone 'Atlantis'" in answer_of(events)


async def test_search_finds_only_the_asking_users_messages() -> None:
    messages = [
        StoredMessage("alice", "t1", "remember the pancake recipe"),
        StoredMessage("bob", "t2", "bob's secret pancake place"),
        StoredMessage("alice", "t3", "nothing relevant"),
    ]
    events = await ask("search for pancake", MemoryUserData("alice", "t1", messages))
    completed = next(e for e in events if isinstance(e, ToolCompleted))
    assert [hit["snippet"] for hit in completed.result] == ["remember the pancake recipe"]
    text = answer_of(events)
    assert "pancake recipe" in text
    assert "bob" not in text
    events = await ask("did I mention pancakes?", MemoryUserData("carol", "t1", messages))
    assert 'found no messages of yours mentioning "pancakes"' in answer_of(events)


async def test_summary_of_the_current_thread() -> None:
    messages = [
        StoredMessage("alice", "t1", "Plan a trip to Lisbon. Budget is small."),
        StoredMessage("alice", "t1", "Here is a plan.", role="assistant"),
        StoredMessage("alice", "t1", "What about trains?"),
        StoredMessage("alice", "t2", "other thread"),
    ]
    text = answer_of(await ask("summarize this thread", MemoryUserData("alice", "t1", messages)))
    assert "3 message(s): 2 from you, 1 from me" in text
    assert "- Plan a trip to Lisbon." in text
    assert "other thread" not in text


async def test_anything_else_gets_what_it_can_do() -> None:
    events = await ask("write me a poem about the sea")
    assert not any(isinstance(e, ToolExecuting | AgentThinking) for e in events)
    assert answer_of(events) == CAPABILITIES


def test_create_agent_defaults_to_builtin(make_settings: SettingsFactory) -> None:
    agent = create_agent(make_settings())
    assert agent.name == "builtin"
