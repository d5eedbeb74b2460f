"""MCP tools from the npm reference servers, over stdio and streamable HTTP: listed as
`server__tool` (allow-lists apply), called with validation, results mapped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from netra.agents import ToolRegistry, default_tools
from netra.agents.catalog import McpServerEntry
from netra.agents.mcp.tools import McpTool
from tests.support.agents import make_context
from tests.support.mcp import (
    call,
    everything_js,
    filesystem_js,
    managed,
    stdio_entry,
)


async def test_everything_over_stdio_with_an_allow_list(node_modules: Path) -> None:
    entry = stdio_entry(
        "everything",
        "node",
        everything_js(node_modules),
        "stdio",
        tools=("echo", "get-sum"),
        requires_approval=("echo",),
    )
    registry = default_tools()
    async with managed(entry, registry=registry) as manager:
        assert sorted(t.name for t in registry if "__" in t.name) == [
            "everything__echo",
            "everything__get-sum",
        ]
        assert {t.name for t in registry} >= {"calculator", "current_time"}
        echo = registry.get("everything__echo")
        assert isinstance(echo, McpTool)
        assert echo.requires_approval
        spec = echo.openai_spec()["function"]
        assert spec["name"] == "everything__echo"
        assert spec["parameters"]["properties"]["message"]["type"] == "string"
        done = await call(manager, "everything__get-sum", '{"a": 2, "b": 40}')
        assert (done.result, done.error) == ("The sum of 2 and 40 is 42.", None)
        assert done.tool == "everything__get-sum"
        assert manager.notices() == []


async def test_invalid_arguments_and_unknown_tools_end_in_errors(node_modules: Path) -> None:
    entry = stdio_entry("everything", "node", everything_js(node_modules), tools=("get-sum",))
    async with managed(entry) as manager:
        wrong = await call(manager, "everything__get-sum", {"a": "two", "b": 1})
        assert wrong.result is None
        assert wrong.error is not None
        assert wrong.error.startswith("Invalid arguments for everything__get-sum: a:")
        broken = await call(manager, "everything__get-sum", '{"a": 1,')
        assert broken.error is not None
        assert "not valid JSON" in broken.error
        # Not exposed (allow-list) and never existed: both unknown to the model.
        for name in ("everything__echo", "everything__rm"):
            missing = await call(manager, name, {})
            assert missing.error is not None
            assert missing.error.startswith(f"Unknown tool {name!r}")


async def test_everything_over_streamable_http_maps_every_kind_of_content(
    everything_http: str,
) -> None:
    entry = McpServerEntry(
        name="web",
        transport="streamable_http",
        url=everything_http,  # type: ignore[arg-type]
        header_secrets={"X-Netra-Test": "WEB_TOKEN"},
    )
    async with managed(entry, secrets={"WEB_TOKEN": "t0ken"}) as manager:
        echo = await call(manager, "web__echo", {"message": "over http"})
        assert echo.result == "Echo: over http"
        image = await call(manager, "web__get-tiny-image", {})
        assert image.error is None
        assert "[image image/png, about" in image.result
        assert "not shown to the model" in image.result
        links = await call(manager, "web__get-resource-links", {"count": 2})
        assert links.result.count("[resource link ") == 2
        structured = await call(manager, "web__get-structured-content", {"location": "New York"})
        assert structured.error is None
        assert "temperature" in structured.result


async def test_filesystem_server_reads_inside_its_root_and_refuses_outside(
    node_modules: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.txt").write_text("remember the milk\n")
    (tmp_path / "secret.txt").write_text("outside\n")
    entry = stdio_entry(
        "files",
        "node",
        filesystem_js(node_modules),
        str(root),
        tools=("read_text_file", "list_directory"),
    )
    async with managed(entry) as manager:
        assert sorted(t.name for t in manager.registry) == [
            "files__list_directory",
            "files__read_text_file",
        ]
        listing = await call(manager, "files__list_directory", {"path": str(root)})
        assert "[FILE] notes.txt" in listing.result
        read = await call(manager, "files__read_text_file", {"path": str(root / "notes.txt")})
        assert read.result == "remember the milk\n"
        outside = await call(
            manager, "files__read_text_file", {"path": str(tmp_path / "secret.txt")}
        )
        assert outside.result is None
        assert outside.error is not None
        assert "Access denied - path outside allowed directories" in outside.error


async def test_a_server_that_cannot_start_leaves_its_tools_out_and_says_so() -> None:
    entry = stdio_entry("ghost", "/nonexistent/mcp-server")
    registry = ToolRegistry()
    async with managed(entry, registry=registry) as manager:
        assert len(registry) == 0
        connection = manager.connections["ghost"]
        assert not connection.up
        [notice] = manager.notices()
        assert notice.startswith("The MCP server ghost is unavailable (")
        assert notice.endswith("its tools are left out of this answer.")


async def test_a_servers_roles_decide_whose_runs_get_its_tools(node_modules: Path) -> None:
    entry = stdio_entry(
        "staff", "node", everything_js(node_modules), tools=("get-sum",), roles=("admin",)
    )
    registry = default_tools()
    async with managed(entry, registry=registry) as manager:
        user = make_context()
        admin = replace(make_context(), roles=frozenset({"user", "admin"}))
        offered = {spec["function"]["name"] for spec in registry.openai_specs(user)}
        assert "staff__get-sum" not in offered
        assert "calculator" in offered
        assert "staff__get-sum" in {s["function"]["name"] for s in registry.openai_specs(admin)}
        refused = await call(manager, "staff__get-sum", {"a": 1, "b": 2}, user)
        assert refused.error is not None
        assert refused.error.startswith("Unknown tool 'staff__get-sum'; available tools: ")
        assert "staff__" not in refused.error.split("available tools: ")[1]
        allowed = await call(manager, "staff__get-sum", {"a": 1, "b": 2}, admin)
        assert allowed.result == "The sum of 1 and 2 is 3."
