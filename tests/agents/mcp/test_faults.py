"""MCP servers that misbehave: slow, silent, crashing mid-call, 5 MB results, schemas
that are not JSON Schema, names a model cannot take, `isError`, tools renamed while a
run uses them, and a name another tool already holds."""

from __future__ import annotations

import sys

import pytest

from netra.agents import ToolError, ToolRegistry
from netra.agents.mcp import Timing
from netra.agents.mcp.tools import MAX_RESULT_CHARS
from tests.support.agents import make_context
from tests.support.mcp import call, fault_entry, managed, stdio_entry, until


@pytest.mark.slow
async def test_a_slow_tool_within_its_timeout_answers_and_a_slower_one_is_stopped() -> None:
    async with managed(fault_entry(timeout=1)) as manager:
        quick = await call(manager, "fault__slow", {"seconds": 0.1})
        assert quick.result == "done after 0.1 s"
        late = await call(manager, "fault__slow", {"seconds": 5})
        assert late.result is None
        assert late.error == "The tool fault__slow took longer than 1 s and was stopped."
        never = await call(manager, "fault__never", {})
        assert never.error == "The tool fault__never took longer than 1 s and was stopped."
        # The session survived both: the server still answers.
        again = await call(manager, "fault__echo", {"text": "still here"})
        assert again.result == "still here"


@pytest.mark.slow
async def test_a_crash_mid_call_is_an_error_and_the_server_is_restarted() -> None:
    async with managed(fault_entry()) as manager:
        connection = manager.connections["fault"]
        assert connection.connects == 1
        crashed = await call(manager, "fault__crash", {})
        assert crashed.result is None
        assert crashed.error == (
            "The MCP server fault closed the connection during the call; it is being restarted."
        )
        await until(lambda: connection.connects == 2 and connection.up, "a restart")
        assert manager.registry.get("fault__echo") is not None
        back = await call(manager, "fault__echo", {"text": "restarted"})
        assert back.result == "restarted"


async def test_a_tool_called_while_its_server_is_down_says_why() -> None:
    patient = Timing(ping_interval=0.3, backoff_min=60)  # stays down after the crash
    async with managed(fault_entry(), timing=patient) as manager:
        connection = manager.connections["fault"]
        echo = manager.registry.get("fault__echo")
        assert echo is not None
        await call(manager, "fault__crash", {})
        await until(lambda: not connection.up, "the server marked down")
        # Withdrawn for new calls; a run that listed it before the crash is told why.
        gone = await call(manager, "fault__echo", {"text": "x"})
        assert gone.error is not None
        assert gone.error.startswith("Unknown tool 'fault__echo'")
        with pytest.raises(ToolError) as held:
            await echo.invoke({"text": "x"}, make_context())
        assert str(held.value) == (
            "The MCP server fault is unavailable: the connection closed (the server "
            "stopped or crashed)."
        )
        assert manager.notices() == [
            "The MCP server fault is unavailable (the connection closed (the server stopped "
            "or crashed)); its tools are left out of this answer."
        ]


@pytest.mark.slow
async def test_a_5_mb_result_is_cut_for_the_model_and_says_so() -> None:
    async with managed(fault_entry(timeout=20)) as manager:
        huge = await call(manager, "fault__huge", {})
        assert huge.error is None
        assert huge.result.startswith("x" * 1000)
        assert len(huge.result) < MAX_RESULT_CHARS + 200
        assert huge.result.endswith(
            f"[cut: the result was 5,242,880 characters, the first {MAX_RESULT_CHARS:,} shown]"
        )


async def test_an_is_error_result_is_a_tool_error() -> None:
    async with managed(fault_entry()) as manager:
        failed = await call(manager, "fault__fails", {})
        assert (failed.result, failed.error) == (None, "the tool failed on purpose")


async def test_tools_with_a_lying_schema_or_an_unusable_name_are_left_out() -> None:
    async with managed(fault_entry()) as manager:
        names = {t.name for t in manager.registry}
        assert "fault__liar" not in names
        assert "fault__bad.name" not in names
        assert "fault__echo" in names
        rejected = manager.connections["fault"].rejected
        assert any(
            r.startswith("fault__liar: its input schema is not valid JSON Schema") for r in rejected
        )
        assert any("'fault__bad.name' is not a function name" in r for r in rejected)


async def test_renamed_tools_are_relisted_and_the_old_name_fails_cleanly() -> None:
    async with managed(fault_entry()) as manager:
        registry = manager.registry
        renamed = await call(manager, "fault__rename", {})
        assert renamed.result == "renamed echo to echo2"
        await until(lambda: registry.get("fault__echo2") is not None, "a re-listing")
        assert registry.get("fault__echo") is None
        old = await call(manager, "fault__echo", {"text": "hi"})
        assert old.error is not None
        assert old.error.startswith("Unknown tool 'fault__echo'")
        new = await call(manager, "fault__echo2", {"text": "hi"})
        assert new.result == "hi"


async def test_a_name_another_tool_holds_is_left_out_and_the_run_is_told() -> None:
    registry = ToolRegistry()

    @registry.tool
    async def fault__echo(text: str) -> str:
        """A local tool that happens to hold the name."""
        return f"local {text}"

    assert fault__echo.name == "fault__echo"
    async with managed(fault_entry(), registry=registry) as manager:
        assert registry.get("fault__echo") is fault__echo
        local = await call(manager, "fault__echo", {"text": "x"})
        assert local.result == "local x"
        assert manager.notices() == [
            "The tool fault__echo is left out: another tool already has that name."
        ]


async def test_a_server_that_never_answers_the_handshake_is_down_and_named() -> None:
    silent = stdio_entry("silent", sys.executable, "-c", "import time; time.sleep(600)")
    impatient = Timing(connect_timeout=0.5, backoff_min=60)
    async with managed(silent, timing=impatient) as manager:
        connection = manager.connections["silent"]
        assert not connection.up
        assert connection.error == "it did not answer in time"
        assert manager.notices() == [
            "The MCP server silent is unavailable (it did not answer in time); "
            "its tools are left out of this answer."
        ]
