"""Netra's MCP tools: a person's threads, search and assistants for an MCP client (an IDE,
another agent), each through the same ChatBackend method as the REST route beside it, so
scopes, ownership, rate limits, budgets and `run_active` apply unchanged.

A refusal is a tool error (`isError`) reading `reason: message`, the reason being the
one docs/protocol.md lists for REST and the socket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from netra import __version__
from netra.chat.backend import ChatBackend
from netra.chat.mcp_server.ask import Answer, ask_and_wait
from netra.chat.mcp_server.identity import principal_of
from netra.chat.routes.search import QUERY_DOC, SearchResult
from netra.chat.routes.threads import MessageOut, ThreadOut, message_out
from netra.chat.search import MAX_LIMIT, MAX_QUERY_CHARS
from netra.errors import DomainError
from netra.tokens.scopes import CHAT, CHAT_READ

P = ParamSpec("P")
R = TypeVar("R")

INSTRUCTIONS = (
    "Netra is a person's AI chat: their threads (conversations with assistants) and "
    "messages. list_threads and search_messages find a thread; read_thread reads its "
    "messages; ask sends a message to an assistant and returns its answer."
)
ThreadId = Annotated[str, Field(min_length=1, max_length=64, description="A thread's id.")]
ModelId = Annotated[str, Field(min_length=1, max_length=64)]
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


class ThreadPage(BaseModel):
    threads: list[ThreadOut]
    next_offset: int | None = Field(description="Pass as `offset` for the next page.")


class SearchPage(BaseModel):
    results: list[SearchResult]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ThreadMessages(BaseModel):
    thread: ThreadOut
    messages: list[MessageOut] = Field(description="The branch the thread shows, oldest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


def refusals_as_tool_errors(tool: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A domain refusal becomes the tool error `reason: message` (isError); anything
    else is the SDK's own unexpected-error answer, which says nothing of internals."""

    @wraps(tool)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await tool(*args, **kwargs)
        except DomainError as exc:
            raise ToolError(f"{exc.reason}: {exc.message}") from exc

    return call


def build_server(backend: ChatBackend) -> MCPServer[Any]:
    """An MCP server whose tools act for the caller `principal_of` names."""

    @refusals_as_tool_errors
    async def list_threads(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=200, description="Threads per page.")] = 50,
        offset: Annotated[int, Field(ge=0, description="Threads to skip.")] = 0,
    ) -> ThreadPage:
        """Your threads, most recently active first."""
        user = principal_of(ctx, CHAT_READ)
        threads = await backend.threads.list_for(user.subject, limit + 1, offset)
        more = len(threads) > limit
        return ThreadPage(
            threads=[ThreadOut.model_validate(thread) for thread in threads[:limit]],
            next_offset=offset + limit if more else None,
        )

    @refusals_as_tool_errors
    async def search_messages(
        ctx: Context,
        query: Annotated[
            str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description=QUERY_DOC)
        ],
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Results per page.")] = 20,
        cursor: Annotated[str | None, Field(max_length=200, description="`next_cursor`.")] = None,
    ) -> SearchPage:
        """Search your threads' titles and messages, best matches first (GET /api/search)."""
        user = principal_of(ctx, CHAT_READ)
        page = await backend.search.search(user.subject, query, limit=limit, cursor=cursor)
        return SearchPage(
            results=[SearchResult.of(hit) for hit in page.hits], next_cursor=page.next_cursor
        )

    @refusals_as_tool_errors
    async def read_thread(
        ctx: Context,
        thread_id: ThreadId,
        limit: Annotated[int, Field(ge=1, le=200, description="Messages per page.")] = 50,
        cursor: Annotated[str | None, Field(max_length=200, description="`next_cursor`.")] = None,
    ) -> ThreadMessages:
        """One of your threads and the messages of the branch it shows, oldest first."""
        user = principal_of(ctx, CHAT_READ)
        thread = await backend.own_thread(user.subject, thread_id)
        page = await backend.threads.messages(thread_id, limit, cursor)
        return ThreadMessages(
            thread=ThreadOut.model_validate(thread),
            messages=[message_out(message, page.siblings) for message in page.items],
            next_cursor=page.next_cursor,
        )

    @refusals_as_tool_errors
    async def ask(
        ctx: Context,
        text: Annotated[str, Field(min_length=1, description="Your message.")],
        *,
        thread_id: Annotated[
            str | None,
            Field(
                min_length=1, max_length=64, description="Continue this thread; none: a new one."
            ),
        ] = None,
        assistant_id: Annotated[
            str | None,
            Field(
                min_length=1,
                max_length=64,
                description="A new thread's assistant (GET /api/assistants); none: the "
                "builtin one. An existing thread keeps its own.",
            ),
        ] = None,
        model: Annotated[
            ModelId | None, Field(description="A model id of GET /api/models; none: the thread's.")
        ] = None,
        interrupt: Annotated[
            bool, Field(description="Stop the thread's run under way first (else run_active).")
        ] = False,
    ) -> Answer:
        """Send a message to an assistant and wait for its answer. The run's events
        (agent_started, tool calls, message deltas...) arrive as progress notifications
        when the request carries a progressToken."""
        user = principal_of(ctx, CHAT)
        return await ask_and_wait(
            backend,
            user,
            ctx,
            text,
            thread_id=thread_id,
            assistant_id=assistant_id,
            model=model,
            interrupt=interrupt,
        )

    tools = [
        strict(Tool.from_function(read, annotations=READ_ONLY, structured_output=True))
        for read in (list_threads, search_messages, read_thread)
    ]
    writes = ToolAnnotations(readOnlyHint=False, openWorldHint=False)
    tools.append(strict(Tool.from_function(ask, annotations=writes, structured_output=True)))
    return MCPServer("netra", instructions=INSTRUCTIONS, version=__version__, tools=tools)


def strict(tool: Tool) -> Tool:
    """The tool refusing arguments it does not take (the SDK's default ignores them), and
    its input schema saying so (`additionalProperties: false`)."""
    loose = tool.fn_metadata.arg_model
    config = {**loose.model_config, "extra": "forbid"}
    tool.fn_metadata.arg_model = type(
        loose.__name__, (loose,), {"model_config": config, "__module__": loose.__module__}
    )
    tool.parameters = {**tool.parameters, "additionalProperties": False}
    return tool
