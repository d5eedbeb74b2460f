"""The tools every agent gets: arithmetic, the time, search over the user's own messages,
and a summary of the current thread. The last two read only `context.data`, which the
backend scopes to the asking user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from netra.agents.arithmetic import ExpressionRefused, evaluate
from netra.agents.runtime import ChatTurn, RunContext
from netra.agents.tools import Tool, ToolError, ToolRegistry, tool

SUMMARY_POINTS = 5
SNIPPET_CHARS = 160


@tool
async def calculator(
    expression: Annotated[str, Field(max_length=500, description="e.g. (17 * 23) / 4")],
) -> int | float:
    """Evaluate an arithmetic expression: numbers, + - * / // % **, parentheses, sqrt, log.

    A parser over the syntax tree with bounded sizes; never Python's eval.
    """
    try:
        return evaluate(expression)
    except ExpressionRefused as exc:
        raise ToolError(str(exc)) from exc


@tool
async def current_time(
    context: RunContext,
    timezone: Annotated[
        str | None, Field(description="IANA zone such as Europe/Paris; default: the user's")
    ] = None,
) -> dict[str, str]:
    """The current date and time in a time zone."""
    zone_name = timezone or context.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ToolError(f"Unknown time zone {zone_name!r}; use a name like Europe/Paris.") from exc
    now = datetime.now(UTC).astimezone(zone)
    return {
        "timezone": zone_name,
        "iso": now.isoformat(timespec="seconds"),
        "text": now.strftime("%A %d %B %Y, %H:%M"),
    }


@tool
async def search_messages(
    context: RunContext,
    query: Annotated[str, Field(min_length=1, max_length=200)],
    limit: Annotated[int, Field(ge=1, le=20)] = 5,
) -> list[dict[str, Any]]:
    """Search the user's own threads and messages for some words."""
    hits = await context.data.search_messages(query, limit)
    return [
        {
            "thread_id": hit.thread_id,
            "thread_title": hit.thread_title,
            "message_id": hit.message_id,
            "role": hit.role,
            "snippet": _snippet(hit.content),
            "created_at": hit.created_at.isoformat(),
        }
        for hit in hits[:limit]
    ]


@tool
async def summarize_thread(context: RunContext) -> dict[str, Any]:
    """A short summary of the current thread: how long it is and what the user asked."""
    history = await context.data.thread_history()
    return summarize(history)


def summarize(history: list[ChatTurn]) -> dict[str, Any]:
    """Extractive and deterministic: the first sentence of the user's latest questions."""
    asked = [turn.content for turn in history if turn.role == "user"]
    points = [_first_sentence(text) for text in asked[-SUMMARY_POINTS:]]
    return {
        "messages": len(history),
        "user_messages": len(asked),
        "assistant_messages": len(history) - len(asked),
        "points": points,
    }


BUILTIN_TOOLS: tuple[Tool, ...] = (calculator, current_time, search_messages, summarize_thread)
# What an assistant names them by (MODELS_FILE [[assistants]] tools, the assistants API).
BUILTIN_TOOL_NAMES = tuple(item.name for item in BUILTIN_TOOLS)


def default_tools(*, timeout: float = 10.0) -> ToolRegistry:
    """A fresh registry holding the built-in tools (add your own with `@registry.tool`)."""
    return ToolRegistry(list(BUILTIN_TOOLS), default_timeout=timeout)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    for end in (". ", "? ", "! "):
        if end in flat:
            flat = flat.split(end, 1)[0] + end.strip()
            break
    return _snippet(flat)
