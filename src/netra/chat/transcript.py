"""A thread as a document: exported as JSON (everything, re-importable) or Markdown (for
people), imported into a new thread, and frozen into the snapshot a share shows.

The JSON document (`format: netra.thread.v1`) holds the messages, each run with its tool
calls (read from the event log), and files as references. Importing never trusts its ids:
every row gets a new one, references are remapped, and the runs' events are written again
through the event log, so an imported thread replays like any other (gap-free seqs).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.events import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentStarted,
    ToolCompleted,
    ToolExecuting,
    Usage,
)
from netra.chat.errors import BadImport
from netra.chat.eventlog import EventLog
from netra.chat.models import (
    File,
    Message,
    Run,
    RunEvent,
    Thread,
    messages_table,
    runs_table,
)
from netra.chat.search import insert_searchable
from netra.db.base import new_id, utcnow

MAX_IMPORT_MESSAGES = 5000
MAX_IMPORT_CHARS = 200_000  # one message; an answer may be long, not unbounded
Text = Annotated[str, StringConstraints(max_length=MAX_IMPORT_CHARS)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Doc(BaseModel):
    # A document from a newer Netra may carry more; what this one knows is checked.
    model_config = ConfigDict(extra="ignore")


class ToolCall(_Doc):
    call_id: Annotated[str, StringConstraints(max_length=100)]
    tool: Name
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    error: Text | None = None
    duration_ms: float | None = None


class RunDoc(_Doc):
    id: Annotated[str, StringConstraints(max_length=100)]
    status: Literal["queued", "running", "completed", "failed", "cancelled"]
    provider: Annotated[str, StringConstraints(max_length=40)] = "imported"
    model: Name | None = None
    error: Text | None = None
    usage: dict[str, Any] | None = None
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list, max_length=200)


class MessageDoc(_Doc):
    id: Annotated[str, StringConstraints(max_length=100)]
    role: Literal["user", "assistant"]
    content: Text
    created_at: AwareDatetime
    run_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    parent_id: Annotated[str, StringConstraints(max_length=100)] | None = None


class FileRef(_Doc):
    id: Annotated[str, StringConstraints(max_length=100)]
    name: Annotated[str, StringConstraints(max_length=255)]
    size: int | None = None
    content_type: Annotated[str, StringConstraints(max_length=100)] | None = None


class ThreadInfo(_Doc):
    title: Name
    created_at: AwareDatetime | None = None
    # The last message of the branch shown; None: the document's last message.
    active_leaf_id: Annotated[str, StringConstraints(max_length=100)] | None = None


class ThreadDoc(_Doc):
    format: Literal["netra.thread.v1"] = "netra.thread.v1"
    exported_at: AwareDatetime | None = None
    thread: ThreadInfo
    messages: list[MessageDoc] = Field(max_length=MAX_IMPORT_MESSAGES)
    runs: list[RunDoc] = Field(default_factory=list, max_length=MAX_IMPORT_MESSAGES)
    files: list[FileRef] = Field(default_factory=list)


def tool_calls(events: list[RunEvent]) -> dict[str, list[ToolCall]]:
    """Each run's tool calls, in the order they started, from its events."""
    calls: dict[str, dict[str, ToolCall]] = defaultdict(dict)
    for event in events:
        p = event.payload
        if event.type == "tool_executing":
            calls[event.run_id][p["call_id"]] = ToolCall(
                call_id=p["call_id"], tool=p["tool"], arguments=p.get("arguments") or {}
            )
        elif event.type == "tool_completed":
            started = calls[event.run_id].get(p["call_id"])
            calls[event.run_id][p["call_id"]] = ToolCall(
                call_id=p["call_id"],
                tool=p["tool"],
                arguments=started.arguments if started else {},
                result=p.get("result"),
                error=p.get("error"),
                duration_ms=p.get("duration_ms"),
            )
    return {run_id: list(by_call.values()) for run_id, by_call in calls.items()}


async def export(db: async_sessionmaker[AsyncSession], thread: Thread) -> ThreadDoc:
    """The whole thread as a document (the caller checked ownership)."""
    async with db() as session:
        messages = (
            await session.scalars(
                select(Message)
                .where(Message.thread_id == thread.id)
                .order_by(Message.created_at, Message.id)
            )
        ).all()
        runs = (
            await session.scalars(
                select(Run).where(Run.thread_id == thread.id).order_by(Run.created_at, Run.id)
            )
        ).all()
        events = (
            await session.scalars(
                select(RunEvent)
                .where(
                    RunEvent.thread_id == thread.id,
                    RunEvent.type.in_(("tool_executing", "tool_completed", "agent_started")),
                )
                .order_by(RunEvent.seq)
            )
        ).all()
        files = (
            await session.scalars(
                select(File).where(File.thread_id == thread.id).order_by(File.created_at, File.id)
            )
        ).all()
    calls = tool_calls(list(events))
    models = {e.run_id: e.payload.get("model") for e in events if e.type == "agent_started"}
    return ThreadDoc(
        exported_at=datetime.now(UTC),
        thread=ThreadInfo(
            title=thread.title, created_at=thread.created_at, active_leaf_id=thread.active_leaf_id
        ),
        messages=[
            MessageDoc(
                id=m.id,
                role="assistant" if m.role == "assistant" else "user",
                content=m.content,
                created_at=m.created_at,
                run_id=m.run_id,
                parent_id=m.parent_id,
            )
            for m in messages
        ],
        runs=[
            RunDoc(
                id=r.id,
                status=r.status if r.status in _STATUSES else "failed",
                provider=r.provider,
                model=models.get(r.id),
                error=r.error,
                usage=r.usage,
                started_at=r.started_at,
                finished_at=r.finished_at,
                tool_calls=calls.get(r.id, []),
            )
            for r in runs
        ],
        files=[
            FileRef(id=f.id, name=f.name, size=f.size, content_type=f.content_type) for f in files
        ],
    )


_STATUSES = {"queued", "running", "completed", "failed", "cancelled"}


def markdown(doc: ThreadDoc) -> str:
    """The thread for people: who said what, each answer after its tool calls."""
    runs = {run.id: run for run in doc.runs}
    exported = (doc.exported_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {_one_line(doc.thread.title)}", "", f"_Exported from Netra on {exported}._", ""]
    for message in shown_branch(doc):
        when = message.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        who = "You" if message.role == "user" else "Assistant"
        lines += [f"## {who} · {when}", ""]
        run = runs.get(message.run_id or "") if message.role == "assistant" else None
        for call in run.tool_calls if run else []:
            outcome = f"error: {call.error}" if call.error else _inline(call.result)
            lines.append(f"> Tool `{call.tool}` {_inline(call.arguments)} → {outcome}")
        if run and run.tool_calls:
            lines.append("")
        lines += [message.content, ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _inline(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 300 else text[:299] + "…"
    return "`" + text.replace("`", "'") + "`"


def parents(doc: ThreadDoc) -> dict[str, str | None]:
    """Each message's parent; a document without any (written before messages formed a
    tree) is one branch in its order."""
    if any(m.parent_id is not None for m in doc.messages):
        return {m.id: m.parent_id for m in doc.messages}
    ids = [m.id for m in doc.messages]
    return {id: ids[n - 1] if n else None for n, id in enumerate(ids)}


def shown_branch(doc: ThreadDoc) -> list[MessageDoc]:
    """The messages of the branch the thread showed, root first (what people read)."""
    by_id = {m.id: m for m in doc.messages}
    leaf = doc.thread.active_leaf_id
    if leaf not in by_id:
        leaf = doc.messages[-1].id if doc.messages else None
    up = parents(doc)
    branch: list[MessageDoc] = []
    while leaf is not None and len(branch) < len(by_id):  # the bound: a cycle ends too
        branch.append(by_id[leaf])
        leaf = up.get(leaf)
    return branch[::-1]


def _check_acyclic(up: dict[str, str | None]) -> None:
    """Following parents from any message reaches a root."""
    rooted: set[str] = set()
    for start in up:
        seen: list[str] = []
        at: str | None = start
        while at is not None and at not in rooted:
            if at in seen:
                raise BadImport(f"message {at}'s parents make a cycle")
            seen.append(at)
            at = up.get(at)
        rooted.update(seen)


def _check(doc: ThreadDoc) -> None:
    """References inside the document must resolve inside it."""
    message_ids = [m.id for m in doc.messages]
    if len(set(message_ids)) != len(message_ids):
        raise BadImport("two messages share an id")
    run_ids = {r.id for r in doc.runs}
    if len(run_ids) != len(doc.runs):
        raise BadImport("two runs share an id")
    known = set(message_ids)
    for n, message in enumerate(doc.messages):
        if message.parent_id is not None and message.parent_id not in known:
            raise BadImport(f"messages[{n}].parent_id names no message of this document")
        if message.run_id is not None and message.run_id not in run_ids:
            raise BadImport(f"messages[{n}].run_id names no run of this document")
    _check_acyclic(parents(doc))


def replayed_events(run: RunDoc, answer: str | None) -> list[AgentEvent]:
    """The events an imported run shows in the timeline: started, tools, its ending."""
    events: list[AgentEvent] = [AgentStarted(provider=run.provider[:40], model=run.model)]
    for call in run.tool_calls:
        events.append(ToolExecuting(call_id=call.call_id, tool=call.tool, arguments=call.arguments))
        events.append(
            ToolCompleted(
                call_id=call.call_id,
                tool=call.tool,
                result=None if call.error else call.result,
                error=call.error,
                duration_ms=call.duration_ms or 0.0,
            )
        )
    if run.status == "completed" and answer is not None:
        events.append(AgentCompleted(text=answer, usage=Usage(), duration_ms=_took(run)))
    else:
        code: Literal["cancelled", "provider_error"] = (
            "cancelled" if run.status == "cancelled" else "provider_error"
        )
        events.append(AgentError(reason=run.error or f"the run was {run.status}", code=code))
    return events


def _took(run: RunDoc) -> float:
    if run.started_at and run.finished_at:
        return max(0.0, (run.finished_at - run.started_at).total_seconds() * 1000)
    return 0.0


async def import_thread(
    db: async_sessionmaker[AsyncSession], events: EventLog, user_id: str, doc: ThreadDoc
) -> Thread:
    """A new thread of `user_id`'s holding the document, all in one transaction."""
    _check(doc)
    now = utcnow()
    thread = Thread(
        id=new_id(), user_id=user_id, title=doc.thread.title, created_at=now, updated_at=now
    )
    run_ids = {run.id: new_id() for run in doc.runs}
    message_ids = {message.id: new_id() for message in doc.messages}
    up = {id: message_ids[p] if p is not None else None for id, p in parents(doc).items()}
    shown = shown_branch(doc)
    answers = {m.run_id: m.content for m in doc.messages if m.role == "assistant" and m.run_id}
    askers = {m.run_id: message_ids[m.id] for m in doc.messages if m.role == "user" and m.run_id}
    thread.active_leaf_id = message_ids[shown[-1].id] if shown else None
    async with db.begin() as session:
        session.add(thread)
        await session.flush()
        if doc.runs:
            await session.execute(
                insert(runs_table),
                [
                    {
                        "id": run_ids[run.id],
                        "thread_id": thread.id,
                        "user_message_id": askers.get(run.id, ""),
                        "status": "failed" if run.status in ("queued", "running") else run.status,
                        "provider": run.provider[:40],
                        "error": run.error,
                        "usage": run.usage,
                        "created_at": run.started_at or now,
                        "started_at": run.started_at,
                        "finished_at": run.finished_at or now,
                    }
                    for run in doc.runs
                ],
            )
        if doc.messages:
            await insert_searchable(
                session,
                messages_table,
                [
                    {
                        "id": message_ids[m.id],
                        "thread_id": thread.id,
                        "role": m.role,
                        "content": m.content,
                        "created_at": m.created_at,
                        "run_id": run_ids.get(m.run_id or ""),
                        "parent_id": up[m.id],
                    }
                    for m in doc.messages
                ],
            )
        for run in doc.runs:
            await events.append_in(
                session, thread.id, run_ids[run.id], replayed_events(run, answers.get(run.id))
            )
    return thread
