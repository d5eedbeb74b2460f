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
from netra.errors import DomainError, Overloaded, Unavailable, row_for
from netra.tokens import TokenRejected
from netra.tokens.scopes import InsufficientScope
from netra.usage.budgets import QuotaExceeded


@dataclass(frozen=True)
class Reply:
    """An `error` reply with this code; `data` adds the fields a client acts on."""

    code: str
    data: Callable[[Any], dict[str, Any]] | None = None


@dataclass(frozen=True)
class CloseWith:
    """Close the socket with this code; the error's message is the close reason."""

    code: Close


WsAnswer = Reply | CloseWith

ANSWERS: dict[type[DomainError], WsAnswer] = {
    TokenRejected: CloseWith(Close.UNAUTHORIZED),
    Unavailable: CloseWith(Close.OVERLOADED),
    Overloaded: Reply("overloaded", lambda e: {"retry_after": e.retry_after}),
    chat.ServiceTokenRefused: CloseWith(Close.FORBIDDEN),
    chat.Draining: CloseWith(Close.RESTARTING),
    chat.TooLong: Reply("too_long"),
    chat.RateLimited: Reply("rate_limited", lambda e: {"retry_after": e.retry_after}),
    chat.NoSuchThread: Reply("not_found"),
    chat.NoSuchRun: Reply("not_found"),
    chat.RunFinished: Reply("run_finished"),
    chat.NoSuchApproval: Reply("not_found"),
    chat.AlreadyResolved: Reply("already_resolved", lambda e: {"call_id": e.call_id}),
    chat.BadSeq: Reply("bad_seq", lambda e: {"last_seq": e.last_seq}),
    chat.BadCursor: Reply("bad_cursor"),
    chat.ModelNotAllowed: Reply("model_not_allowed"),
    chat.RunActive: Reply("run_active", lambda e: {"run_id": e.run_id}),
    chat.TooManyStreams: CloseWith(Close.OVERLOADED),
    InsufficientScope: Reply("insufficient_scope", lambda e: {"scope": e.scope}),
    chat.EmptyQuery: Reply("empty_query"),
    chat.QueryTooLong: Reply("query_too_long"),
    chat.BadImport: Reply("bad_import"),
    chat.NoSuchFile: Reply("not_found"),
    chat.FileTooLarge: Reply("file_too_large"),
    chat.ThreadFilesFull: Reply("thread_files_full"),
    chat.UserFilesFull: Reply("user_files_full"),
    chat.UnsupportedFile: Reply("unsupported_file_type"),
    chat.UnreadablePdf: Reply("unreadable_pdf"),
    chat.FileNotInThread: Reply("file_not_in_thread"),
    chat.TooManyFiles: Reply("too_many_files"),
    chat.BadUpload: Reply("bad_upload"),
    chat.NoSuchMessage: Reply("not_found"),
    chat.NotAnAnswer: Reply("not_an_answer"),
    chat.NoSuchShare: Reply("not_found"),
    chat.AdminsOnly: Reply("forbidden"),
    chat.NoSuchAssistant: Reply("not_found"),
    chat.AssistantReadOnly: Reply("forbidden"),
    chat.UnknownTool: Reply("unknown_tool"),
    QuotaExceeded: Reply("quota_exceeded", QuotaExceeded.detail),
}


def answer_for(exc: DomainError) -> WsAnswer:
    row = row_for(ANSWERS, exc)
    if row is not None:
        return row
    # tests/test_errors.py keeps this from happening
    raise LookupError(f"no socket answer for {type(exc).__name__}") from exc


def close_for(exc: DomainError) -> tuple[Close, str]:
    """The close code and reason refusing a socket for `exc` (a handshake has no
    request to reply to)."""
    row = answer_for(exc)
    if isinstance(row, CloseWith):
        return row.code, exc.message
    return Close.BAD_REQUEST, exc.message


def answer(outbox: Outbox, request: Request, exc: DomainError) -> None:
    """Tell the client why `request` was refused."""
    row = answer_for(exc)
    if isinstance(row, CloseWith):
        outbox.fail(row.code, exc.message)
        return
    data = row.data(exc) if row.data is not None else {}
    thread_id = getattr(exc, "thread_id", None) or getattr(request, "thread_id", None)
    outbox.push(error(request, row.code, exc.message, thread_id, **data))
