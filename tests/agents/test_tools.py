from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated, Literal

import pytest
from pydantic import Field

from netra.agents import RunContext, ToolError, ToolRegistry, default_tools, tool
from tests.support.agents import MemoryUserData, StoredMessage, make_context


def registry_with_samples() -> ToolRegistry:
    registry = ToolRegistry(default_timeout=0.2)

    @registry.tool
    async def repeat(
        word: Annotated[str, Field(min_length=1)], times: int = 2, sep: Literal[" ", "-"] = " "
    ) -> str:
        """Repeat a word.

        More detail that the model does not need.
        """
        return sep.join([word] * times)

    @registry.tool
    async def whoami(context: RunContext) -> str:
        """The asking user."""
        return context.user_id

    @registry.tool
    async def sleepy() -> str:
        """Never answers in time."""
        await asyncio.sleep(30)
        return "late"

    @registry.tool(timeout=1.0)
    async def fails(kind: str) -> str:
        """Fails on purpose."""
        if kind == "tool":
            raise ToolError("the tool said no")
        raise KeyError(kind)

    return registry


def test_schema_is_derived_from_the_signature() -> None:
    spec = registry_with_samples().get("repeat")
    assert spec is not None
    assert spec.description == "Repeat a word."
    schema = spec.json_schema()
    assert schema["required"] == ["word"]
    assert schema["properties"]["word"]["minLength"] == 1
    assert schema["properties"]["times"] == {"default": 2, "title": "Times", "type": "integer"}
    assert schema["properties"]["sep"]["enum"] == [" ", "-"]
    assert schema["additionalProperties"] is False
    assert spec.openai_spec()["function"]["name"] == "repeat"


def test_the_run_context_is_injected_not_exposed() -> None:
    spec = registry_with_samples().get("whoami")
    assert spec is not None
    assert spec.json_schema()["properties"] == {}


async def test_call_validates_and_runs(context: RunContext) -> None:
    registry = registry_with_samples()
    done = await registry.call("repeat", '{"word": "hi", "times": 3, "sep": "-"}', context, "c1")
    assert (done.result, done.error, done.call_id, done.tool) == ("hi-hi-hi", None, "c1", "repeat")
    assert done.duration_ms >= 0
    assert (await registry.call("whoami", {}, context, "c2")).result == "alice"


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("repeat", '{"word": "hi", "times": "many"}', "times: Input should be a valid integer"),
        ("repeat", '{"word": ""}', "word: String should have at least 1 character"),
        ("repeat", '{"times": 2}', "word: Field required"),
        ("repeat", '{"word": "a", "extra": 1}', "extra: Extra inputs are not permitted"),
        ("repeat", '{"word": "hi",', "not valid JSON"),
        ("repeat", "[1, 2]", "must be a JSON object"),
        ("nope", "{}", "Unknown tool 'nope'; available tools: fails, repeat, sleepy, whoami"),
        ("sleepy", "{}", "took longer than 0.2 s"),
        ("fails", '{"kind": "tool"}', "the tool said no"),
        ("fails", '{"kind": "bug"}', "The tool fails failed: KeyError: 'bug'"),
    ],
)
async def test_every_failure_is_a_tool_completed_error(
    context: RunContext, name: str, arguments: str, error: str
) -> None:
    done = await registry_with_samples().call(name, arguments, context, "c1")
    assert done.result is None
    assert done.error is not None
    assert error in done.error


def test_registering_twice_is_refused() -> None:
    registry = default_tools()

    async def calculator() -> int:
        """Clash."""
        return 1

    with pytest.raises(ValueError, match="already registered"):
        registry.tool(calculator)


def test_only_async_functions_are_tools() -> None:
    def sync_tool() -> int:
        return 1

    with pytest.raises(TypeError, match="async"):
        tool(sync_tool)  # type: ignore[arg-type]


async def test_builtin_tools() -> None:
    data = MemoryUserData(
        "alice",
        "t1",
        [
            StoredMessage("alice", "t1", "Book the dentist. Tuesday works."),
            StoredMessage("alice", "t1", "Sure, booked.", role="assistant"),
            StoredMessage("alice", "t2", "Dentist invoice arrived"),
            StoredMessage("bob", "t9", "my dentist is Dr Who"),
        ],
    )
    context = make_context(data, timezone="Asia/Tokyo")
    tools = default_tools()
    assert [t.name for t in tools] == [
        "calculator",
        "current_time",
        "search_messages",
        "search_documents",
        "summarize_thread",
    ]
    calc = await tools.call("calculator", {"expression": "9**9**9"}, context, "c")
    assert calc.error == "The result is too large."
    now = await tools.call("current_time", {}, context, "c")
    assert now.result["timezone"] == "Asia/Tokyo"
    assert now.result["iso"].endswith("+09:00")
    bad_zone = await tools.call("current_time", {"timezone": "Mars/Olympus"}, context, "c")
    assert bad_zone.error is not None
    assert "Unknown time zone 'Mars/Olympus'" in bad_zone.error
    found = await tools.call("search_messages", {"query": "dentist"}, context, "c")
    assert [hit["thread_id"] for hit in found.result] == ["t1", "t2"]
    assert all("Who" not in hit["snippet"] for hit in found.result)
    limit = await tools.call("search_messages", {"query": "x", "limit": 500}, context, "c")
    assert limit.error is not None
    assert "less than or equal to 20" in limit.error
    summary = await tools.call("summarize_thread", {}, context, "c")
    assert summary.result == {
        "messages": 2,
        "user_messages": 1,
        "assistant_messages": 1,
        "points": ["Book the dentist."],
    }


async def test_a_run_given_some_tools_is_offered_and_may_call_only_those(
    context: RunContext,
) -> None:
    registry = default_tools()
    given = dataclasses.replace(context, tools=frozenset({"calculator"}))
    assert [spec["function"]["name"] for spec in registry.openai_specs(given)] == ["calculator"]
    assert len(registry.openai_specs(context)) == len(registry)  # None: every tool

    refused = await registry.call("current_time", {}, given, "c1")
    assert refused.error == "Unknown tool 'current_time'; available tools: calculator."
    allowed = await registry.call("calculator", {"expression": "6 * 7"}, given, "c2")
    assert (allowed.result, allowed.error) == (42, None)
    nothing = dataclasses.replace(context, tools=frozenset())
    assert registry.openai_specs(nothing) == []
    refused = await registry.call("calculator", {"expression": "1"}, nothing, "c3")
    assert refused.error == "Unknown tool 'calculator'; available tools: none."


def test_the_specs_text_is_the_offered_specs_and_follows_the_registry(
    context: RunContext,
) -> None:
    registry = default_tools()
    given = dataclasses.replace(context, tools=frozenset({"calculator"}))
    for ctx in (context, given, context, given):  # built once per set, the same each time
        assert json.loads(registry.specs_text(ctx)) == registry.openai_specs(ctx)
    assert [s["function"]["name"] for s in json.loads(registry.specs_text(given))] == ["calculator"]
    registry.remove("calculator")  # a tool withdrawn is withdrawn from the text too
    assert json.loads(registry.specs_text(given)) == []
    assert "calculator" not in registry.specs_text(context)

    @registry.tool
    async def calculator(expression: str) -> str:
        """Another calculator, registered under the same name."""
        return expression

    text = json.loads(registry.specs_text(given))
    assert text == registry.openai_specs(given)
    assert text[0]["function"]["description"].startswith("Another calculator")
