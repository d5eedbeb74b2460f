"""The socket's answer to every chat domain error: one table. A refused request is an
`error` reply naming it (the socket stays open) or, where the client must go
elsewhere, a close code (docs/protocol.md). A new rule adds one row here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netra.chat import errors as chat
from netra.chat.outbox import Outbox
from netra.chat.ws.protocol import Request, error
from netra.close_codes import Close
from netra.errors import DomainError
from netra.tokens import TokenRejected


@dataclass(frozen=True)
class Reply:
    """An `error` reply with this code; `data` adds the fields a client acts on."""

    code: str
    data: Callable[[Any], dict[str, Any]] | None = None
    # The frame names the thread or run already, so the sentence need not.
    text: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class CloseWith:
    code: Close
    text: str | None = None


WsAnswer = Reply | CloseWith

ANSWERS: dict[type[DomainError], WsAnswer] = {
    TokenRejected: CloseWith(Close.UNAUTHORIZED),
    chat.Unavailable: CloseWith(Close.OVERLOADED),
    chat.ServiceTokenRefused: CloseWith(Close.FORBIDDEN),
    chat.Draining: CloseWith(Close.RESTARTING, "server restarting; reconnect and send again"),
    chat.TooLong: Reply("too_long"),
    chat.RateLimited: Reply("rate_limited", lambda e: {"retry_after": e.retry_after}),
    chat.NoSuchThread: Reply("not_found", text=lambda e: "thread not found"),
    chat.NoSuchRun: Reply("not_found", text=lambda e: "run not found"),
    chat.RunFinished: Reply("run_finished", text=lambda e: f"run already {e.status}"),
    chat.BadSeq: Reply(
        "bad_seq",
        lambda e: {"last_seq": e.last_seq},
        lambda e: f"after_seq must be between 0 and the thread's last seq {e.last_seq}",
    ),
    chat.BadCursor: Reply("bad_cursor"),
    chat.ModelNotAllowed: Reply("model_not_allowed"),
    chat.RunActive: Reply("run_active", lambda e: {"run_id": e.run_id}),
    chat.EmptyQuery: Reply("empty_query"),
    chat.QueryTooLong: Reply("query_too_long"),
}


def answer_for(exc: DomainError) -> WsAnswer:
    for cls in type(exc).__mro__:
        row = ANSWERS.get(cls)
        if row is not None:
            return row
    raise LookupError(f"no socket answer for {type(exc).__name__}") from exc


def close_for(exc: DomainError) -> tuple[Close, str]:
    """The close code and reason refusing a socket for `exc` (a handshake has no
    request to reply to)."""
    row = answer_for(exc)
    if isinstance(row, CloseWith):
        return row.code, row.text or exc.message
    return Close.BAD_REQUEST, exc.message


def answer(outbox: Outbox, request: Request, exc: chat.ChatError) -> None:
    """Tell the client why `request` was refused."""
    row = answer_for(exc)
    if isinstance(row, CloseWith):
        outbox.fail(row.code, row.text or exc.message)
        return
    message = row.text(exc) if row.text is not None else exc.message
    data = row.data(exc) if row.data is not None else {}
    thread_id = exc.thread_id or getattr(request, "thread_id", None)
    outbox.push(error(request, row.code, message, thread_id, **data))
