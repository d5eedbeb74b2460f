"""Netra's /mcp through the SDK's client (streamable HTTP, a real server on a port): the
tools, each acting for the caller and no one else."""

from __future__ import annotations

from typing import Any

from tests.support.chat import Server
from tests.support.mcp_server import error_text, mcp_client, structured


async def test_lists_the_four_tools_with_precise_schemas(server: Server) -> None:
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        listed = await mcp.list_tools()
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == {"list_threads", "search_messages", "read_thread", "ask"}
    assert all(tool.description and tool.output_schema for tool in tools.values())
    assert all(tool.input_schema["additionalProperties"] is False for tool in tools.values())
    ask = tools["ask"].input_schema
    assert ask["required"] == ["text"]
    assert ask["properties"]["text"]["minLength"] == 1
    assert tools["read_thread"].input_schema["required"] == ["thread_id"]
    limit = tools["list_threads"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 200)
    query = tools["search_messages"].input_schema["properties"]["query"]
    assert query["minLength"] == 1
    assert query["maxLength"] == 500
    assert tools["read_thread"].annotations
    assert tools["read_thread"].annotations.read_only_hint


async def make_threads(server: Server, user: str, *titles: str) -> list[str]:
    async with server.http(user) as http:
        created = [await http.post("/api/threads", json={"title": title}) for title in titles]
    return [answer.json()["id"] for answer in created]


async def test_list_threads_pages_through_the_callers_threads_only(server: Server) -> None:
    mine = await make_threads(server, "alice", "one", "two", "three")
    await make_threads(server, "bob", "not yours")
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        first = structured(await mcp.call_tool("list_threads", {"limit": 2}))
        assert first["next_offset"] == 2
        rest = structured(await mcp.call_tool("list_threads", {"limit": 2, "offset": 2}))
    assert rest["next_offset"] is None
    listed = [thread["id"] for thread in first["threads"] + rest["threads"]]
    assert sorted(listed) == sorted(mine)


async def test_read_thread_gives_its_messages_oldest_first(server: Server) -> None:
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        asked = structured(await mcp.call_tool("ask", {"text": "hello there"}))
        thread = structured(await mcp.call_tool("read_thread", {"thread_id": asked["thread_id"]}))
    assert thread["thread"]["title"] == "hello there"
    assert [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "hello there"),
        ("assistant", asked["answer"]),
    ]
    assert thread["next_cursor"] is None


async def test_another_users_thread_is_not_found(server: Server) -> None:
    [theirs] = await make_threads(server, "bob", "private")
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        read = await mcp.call_tool("read_thread", {"thread_id": theirs})
        asked = await mcp.call_tool("ask", {"text": "hi", "thread_id": theirs})
    assert error_text(read).endswith("read_thread: not_found: thread not found")
    assert error_text(asked).endswith("ask: not_found: thread not found")
    async with server.http("bob") as http:
        messages = (await http.get(f"/api/threads/{theirs}/messages")).json()
    assert messages["items"] == []


async def test_search_messages_is_the_search_api(server: Server) -> None:
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        asked = structured(await mcp.call_tool("ask", {"text": "pelicans migrate in winter"}))
        found = structured(await mcp.call_tool("search_messages", {"query": "pelicans"}))
        nothing = await mcp.call_tool("search_messages", {"query": "-pelicans"})
    async with server.http("alice") as http:
        api = (await http.get("/api/search", params={"q": "pelicans"})).json()
    assert found == api
    assert {hit["thread_id"] for hit in found["results"]} == {asked["thread_id"]}
    assert "search_messages: empty_query: " in error_text(nothing)
    async with mcp_client(server.url + "/mcp", await server.users.token("bob")) as mcp:
        theirs = structured(await mcp.call_tool("search_messages", {"query": "pelicans"}))
    assert theirs["results"] == []


BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("read_thread", {}, "thread_id"),
    ("read_thread", {"thread_id": "x", "limit": 0}, "limit"),
    ("list_threads", {"limit": 201}, "limit"),
    ("list_threads", {"offset": -1}, "offset"),
    ("list_threads", {"limit": "many"}, "limit"),
    ("search_messages", {"query": ""}, "query"),
    ("search_messages", {"query": "x" * 501}, "query"),
    ("ask", {"text": ""}, "text"),
    ("ask", {"text": "hi", "thread_id": 7}, "thread_id"),
    ("list_threads", {"limt": 5}, "limt"),
    ("ask", {"text": "hi", "user_id": "someone-else"}, "user_id"),
]


async def test_bad_arguments_are_tool_errors_naming_the_argument(server: Server) -> None:
    async with mcp_client(server.url + "/mcp", await server.users.token("alice")) as mcp:
        for tool, arguments, named in BAD_ARGUMENTS:
            text = error_text(await mcp.call_tool(tool, arguments))
            assert named in text, (tool, arguments, text)
        unknown = await mcp.call_tool("delete_everything", {})
    assert "delete_everything" in error_text(unknown)
