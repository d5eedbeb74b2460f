"""`ask` over MCP: a message through the chat backend's one set of rules, the run's
events as progress notifications, its answer (or why there is none) as the result."""

from __future__ import annotations

import asyncio

from mcp import types

from tests.support.chat import Server
from tests.support.mcp_server import ServeMcp, error_text, events_of, mcp_client, structured


async def test_ask_reports_the_runs_events_as_progress_and_returns_the_answer(
    server: Server,
) -> None:
    progress: list[tuple[float, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, message))

    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        result = await mcp.call_tool("ask", {"text": "hello"}, progress_callback=on_progress)
        asked = structured(result)
        again = structured(
            await mcp.call_tool("ask", {"text": "and again", "thread_id": asked["thread_id"]})
        )
    assert asked["answer"] == "you said: hello "
    assert [c.text for c in result.content if isinstance(c, types.TextContent)]
    events = events_of([message for _, message in progress])
    assert [value for value, _ in progress] == list(range(1, len(progress) + 1))
    assert events[0]["type"] == "agent_started"
    assert events[-1]["type"] == "agent_completed"
    assert {"agent_thinking", "message_delta"} <= {event["type"] for event in events}
    assert {event["run_id"] for event in events} == {asked["run_id"]}
    seqs = [event["seq"] for event in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # gap-free, in order
    assert again["thread_id"] == asked["thread_id"]
    assert again["answer"] == "you said: and again "


async def test_a_second_ask_while_a_run_is_going_is_run_active_unless_it_interrupts(
    server: Server,
) -> None:
    token = await server.users.token("alice")
    async with mcp_client(server.url + "/mcp", token) as mcp:
        started = asyncio.Event()

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            started.set()

        first = asyncio.create_task(
            mcp.call_tool("ask", {"text": "hang please"}, progress_callback=on_progress)
        )
        await started.wait()
        async with server.http("alice") as http:
            [thread] = (await http.get("/api/threads")).json()
        busy = await mcp.call_tool("ask", {"text": "hello?", "thread_id": thread["id"]})
        assert "ask: run_active: " in error_text(busy)
        arguments = {"text": "stop that", "thread_id": thread["id"], "interrupt": True}
        second = structured(await mcp.call_tool("ask", arguments))
        stopped = await first
    assert second["answer"] == "you said: stop that "
    assert "ask: cancelled: " in error_text(stopped)
    assert f"thread {thread['id']}" in error_text(stopped)


async def test_ask_keeps_the_rate_limit_and_leaves_no_empty_thread(serve_mcp: ServeMcp) -> None:
    server = await serve_mcp(CHAT_RATE_LIMIT="1")
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        structured(await mcp.call_tool("ask", {"text": "one"}))
        limited = await mcp.call_tool("ask", {"text": "two"})
    assert "ask: rate_limited: " in error_text(limited)
    async with server.http("alice") as http:
        assert len((await http.get("/api/threads")).json()) == 1


async def test_ask_refuses_a_message_too_long_and_a_model_not_in_the_catalog(
    serve_mcp: ServeMcp,
) -> None:
    server = await serve_mcp(MESSAGE_MAX_CHARS="10")
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        too_long = await mcp.call_tool("ask", {"text": "x" * 11})
        unknown = await mcp.call_tool("ask", {"text": "hi", "model": "gpt-17"})
    assert "ask: too_long: " in error_text(too_long)
    assert "ask: model_not_allowed: " in error_text(unknown)
    async with server.http("alice") as http:
        assert (await http.get("/api/threads")).json() == []


async def test_ask_starts_a_new_thread_with_an_assistant_the_caller_may_use(
    server: Server,
) -> None:
    async with server.http("alice") as http:
        made = await http.post(
            "/api/assistants", json={"name": "Terse", "instructions": "Be terse."}
        )
        assert made.status_code == 201, made.text
    terse = made.json()["id"]
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        asked = structured(await mcp.call_tool("ask", {"text": "hi", "assistant_id": terse}))
        read = structured(await mcp.call_tool("read_thread", {"thread_id": asked["thread_id"]}))
        both = {"text": "hi", "assistant_id": terse, "thread_id": asked["thread_id"]}
        mixed = await mcp.call_tool("ask", both)
    assert read["thread"]["assistant_id"] == terse
    assert "ask: invalid_request: assistant_id chooses a new thread's" in error_text(mixed)
    async with mcp_client(server.url + "/mcp", await server.users.token("bob")) as mcp:
        theirs = await mcp.call_tool("ask", {"text": "hi", "assistant_id": terse})
    assert "ask: not_found: " in error_text(theirs)


async def test_ask_keeps_the_callers_budget(serve_mcp: ServeMcp) -> None:
    server = await serve_mcp(ENVIRONMENT="development")
    await server.users.sign_in("admin")  # a development installation's first account is admin
    alice = await server.users.id("alice")
    async with server.http("admin") as admin:
        budget = {"messages_per_day": 1}
        put = await admin.put(f"/api/admin/budgets/users/{alice}", json=budget)
        assert put.status_code == 200, put.text
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        first = structured(await mcp.call_tool("ask", {"text": "one"}))
        refused = await mcp.call_tool("ask", {"text": "two", "thread_id": first["thread_id"]})
    assert "ask: quota_exceeded: your budget (messages_per_day: 1 messages a day)" in error_text(
        refused
    )
