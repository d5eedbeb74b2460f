"""The `ask` tool's work: a message through ChatBackend.send_message (every rule of a
message applies), then the run followed through the hub like a socket follows it, each
of its events sent as an MCP progress notification, until it answers or fails."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from netra.chat.backend import ChatBackend
from netra.chat.outbox import Outbox
from netra.close_codes import Close
from netra.errors import DomainError, InvalidRequest, Unavailable
from netra.tokens import Principal

TITLE_CHARS = 80


class Answer(BaseModel):
    thread_id: str = Field(description="Pass it to `ask` again to continue the thread.")
    run_id: str
    answer: str = Field(description="The assistant's final answer.")


def title_of(text: str) -> str:
    """A new thread's title: the message's first line, cut short."""
    line = text.strip().splitlines()[0] if text.strip() else "New chat"
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


async def ask_and_wait(
    backend: ChatBackend,
    user: Principal,
    ctx: Context[Any, Any],
    text: str,
    *,
    thread_id: str | None,
    assistant_id: str | None,
    model: str | None,
    interrupt: bool,
) -> Answer:
    """Send `text` in the thread (if none is given, a new one with `assistant_id` and
    `model`) and return the run's answer; a run that ends without one is a tool error."""
    created = None
    if thread_id is None:
        backend.check_accepting()
        created = await backend.create_thread(user, title_of(text), model, assistant_id)
        thread_id = created.id
    elif assistant_id is not None:
        raise InvalidRequest(
            "assistant_id chooses a new thread's assistant; an existing thread keeps its "
            "own (PATCH /api/threads/{id} changes it)"
        )
    try:
        posted = await backend.send_message(
            user, thread_id, text, None, model=model, interrupt=interrupt
        )
    except DomainError:
        if created is not None:  # refused (rate, budget, length): leave no empty thread
            await backend.threads.delete(user.subject, created.id)
        raise
    answer = await follow_run(backend, ctx, thread_id, posted.after_seq, posted.run.id)
    return Answer(thread_id=thread_id, run_id=posted.run.id, answer=answer)


async def follow_run(
    backend: ChatBackend, ctx: Context[Any, Any], thread_id: str, after_seq: int, run_id: str
) -> str:
    """The run's answer, its events reported as progress (the frame as the message)
    on the way. A subscription that fell behind starts again from the last seq read."""
    reported = 0
    cursor = after_seq
    while True:
        outbox = Outbox(backend.settings.ws_queue_size)
        subscription = backend.hub.subscribe(thread_id, cursor, outbox)
        try:
            while outbox.close_code is None:
                await outbox.wait()
                for frame in outbox.take():
                    event = json.loads(frame)
                    cursor = event["seq"]
                    if event["run_id"] != run_id:
                        continue
                    reported += 1
                    await ctx.report_progress(reported, message=frame)
                    if event["type"] == "agent_completed":
                        return str(event["payload"]["text"])
                    if event["type"] == "agent_error":
                        payload = event["payload"]
                        raise ToolError(
                            f"{payload.get('code', 'provider_error')}: {payload['reason']} "
                            f"(thread {thread_id}, run {run_id})"
                        )
        finally:
            backend.hub.unsubscribe(subscription)
        if outbox.close_code != Close.OVERLOADED:
            raise Unavailable(
                f"the run's events could not be followed ({outbox.close_reason}); "
                f"read_thread {thread_id} shows its answer once it has one",
                retry_after=1.0,
            )
