"""What the chat rules refuse (netra.chat.backend raises them): one class per rule.

A new rule is a ChatBackend method raising one of these, plus one row in each
transport's table: netra.http_errors (REST) and netra.chat.ws.errors (the socket)."""

from __future__ import annotations

from netra.agents.catalog import ModelNotAllowed as CatalogModelNotAllowed
from netra.errors import DomainError


class ChatError(DomainError):
    """A chat request one of the chat rules refuses."""

    thread_id: str | None = None  # the thread it concerns, when the rule knows it


class ServiceTokenRefused(ChatError):
    reason = "forbidden"

    def __init__(self) -> None:
        super().__init__("service tokens cannot use the chat API")


class Draining(ChatError):
    """The process is stopping: nothing is stored; the client sends it again elsewhere."""

    reason = "restarting"

    def __init__(self) -> None:
        super().__init__("server restarting; send again", retry_after=1.0)


class TooLong(ChatError):
    reason = "too_long"

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"message text is {length} characters; limit {limit}")


class RateLimited(ChatError):
    reason = "rate_limited"

    def __init__(self, retry_after: float, limit: int) -> None:
        super().__init__(
            f"too many messages: at most {limit} per minute; retry in {retry_after:.0f}s",
            retry_after=retry_after,
        )


class NoSuchThread(ChatError):
    """The thread does not exist, or is not this user's (the same answer for both)."""

    reason = "not_found"

    def __init__(self, thread_id: str) -> None:
        super().__init__("thread not found")
        self.thread_id = thread_id


class NoSuchRun(ChatError):
    reason = "not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__("run not found")
        self.run_id = run_id


class RunFinished(ChatError):
    reason = "run_finished"

    def __init__(self, status: str, thread_id: str) -> None:
        super().__init__(f"run already {status}")
        self.status = status
        self.thread_id = thread_id


class NoSuchApproval(ChatError):
    """No tool call of this run waits or waited for an approval under this id."""

    reason = "not_found"

    def __init__(self, call_id: str) -> None:
        super().__init__(f"no approval for call {call_id[:100]!r} in this run")
        self.call_id = call_id


class AlreadyResolved(ChatError):
    """The approval was answered already: by a person (here, in another tab, on another
    instance), by APPROVAL_TIMEOUT (declined), or withdrawn when its run ended."""

    reason = "already_resolved"

    def __init__(self, call_id: str, status: str) -> None:
        words = {
            "approved": "was approved already",
            "denied": "was declined already",
            "expired": "was declined when its approval timed out (APPROVAL_TIMEOUT)",
            "cancelled": "was withdrawn when its run ended",
        }
        super().__init__(f"call {call_id[:100]} {words.get(status, 'was answered already')}")
        self.call_id = call_id
        self.status = status


class BadSeq(ChatError):
    """`after_seq` below 0 or beyond the thread's last seq."""

    reason = "bad_seq"

    def __init__(self, last_seq: int) -> None:
        super().__init__(f"after_seq must be between 0 and the thread's last seq {last_seq}")
        self.last_seq = last_seq


class BadCursor(ChatError):
    reason = "bad_cursor"

    def __init__(self, cursor: str) -> None:
        super().__init__(f"cursor {cursor!r} is not one this server issued")


class ModelNotAllowed(ChatError, CatalogModelNotAllowed):
    """A model id that is not in the catalog or not for the caller's roles (the
    catalog decides: netra.agents.catalog.Catalog.choose)."""


class RunActive(ChatError):
    """The thread's run is still going; the message may ask to interrupt it."""

    reason = "run_active"

    def __init__(self, run_id: str, thread_id: str) -> None:
        super().__init__(
            f"run {run_id} is still answering in this thread; wait for it, cancel it, "
            "or send with interrupt: true"
        )
        self.run_id = run_id
        self.thread_id = thread_id


class TooManyStreams(ChatError):
    """A user's open sockets and SSE streams are at WS_MAX_PER_USER."""

    reason = "too_many_streams"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this account has {limit} streams open (WS_MAX_PER_USER); close one first",
            retry_after=5.0,
        )


class EmptyQuery(ChatError):
    """A search with no word to look for (only punctuation, or only words left out)."""

    reason = "empty_query"


class QueryTooLong(ChatError):
    reason = "query_too_long"


class BadImport(ChatError):
    """An imported thread document whose references do not resolve inside it."""

    reason = "bad_import"


class NoSuchMessage(ChatError):
    """A message that does not exist, is someone else's, or (`where`) is not in the
    thread named: one answer for all three."""

    reason = "not_found"

    def __init__(self, message_id: str, where: str = "") -> None:
        super().__init__(f"message {message_id} not found{where}")


class NotAnAnswer(ChatError):
    reason = "not_an_answer"

    def __init__(self, message_id: str, why: str = "feedback rates answers") -> None:
        super().__init__(f"message {message_id} is not an answer: {why}")


class NoSuchShare(ChatError):
    """A share that does not exist, was revoked, or is someone else's (one answer)."""

    reason = "not_found"

    def __init__(self) -> None:
        super().__init__("no such share (it may have been revoked)")


class AdminsOnly(ChatError):
    reason = "forbidden"

    def __init__(self) -> None:
        super().__init__("only admins may do this")


class NoSuchFile(ChatError):
    """A file that does not exist or is someone else's (the same answer for both)."""

    reason = "not_found"

    def __init__(self, file_id: str) -> None:
        super().__init__(f"file {file_id[:100]} not found")


class FileTooLarge(ChatError):
    """One upload over FILE_MAX_BYTES (or FILE_IMAGE_MAX_BYTES for an image)."""

    reason = "file_too_large"

    def __init__(self, what: str, setting: str, limit: int) -> None:
        super().__init__(f"{what} is larger than {setting} ({limit} bytes)")
        self.setting = setting


class ThreadFilesFull(ChatError):
    reason = "thread_files_full"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"this thread's files would pass THREAD_FILES_MAX_BYTES ({limit} bytes); "
            "delete some first"
        )


class UserFilesFull(ChatError):
    reason = "user_files_full"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"your files would pass USER_FILES_MAX_BYTES ({limit} bytes); delete some first"
        )


class UnsupportedFile(ChatError):
    """Bytes that are none of text (UTF-8/UTF-16), PDF, PNG, JPEG, GIF or WebP,
    whatever the client called them."""

    reason = "unsupported_file_type"


class UnreadablePdf(ChatError):
    """A PDF whose text cannot be read: encrypted, malformed, or a stream that
    decompresses past what pypdf allows (a zip bomb)."""

    reason = "unreadable_pdf"


class FileNotInThread(ChatError):
    """`file_ids` naming the user's own file of another thread."""

    reason = "file_not_in_thread"

    def __init__(self, file_id: str) -> None:
        super().__init__(
            f"file {file_id} belongs to another thread: upload it to this one to attach it"
        )


class TooManyFiles(ChatError):
    reason = "too_many_files"

    def __init__(self, limit: int) -> None:
        super().__init__(f"a message attaches at most {limit} files")


class BadUpload(ChatError):
    """An upload that is not multipart/form-data with a `file` field."""

    reason = "bad_upload"


class NoSuchAssistant(ChatError):
    """An assistant that does not exist, or is someone else's personal one (one answer)."""

    reason = "not_found"

    def __init__(self, assistant_id: str) -> None:
        super().__init__(f"assistant {assistant_id!r} not found")


class AssistantReadOnly(ChatError):
    """A shared assistant: only admins change those made through the API, and nobody
    changes the builtin one or the catalog's (MODELS_FILE) through it."""

    reason = "forbidden"


class UnknownTool(ChatError):
    """An assistant given a tool that no built-in or declared MCP server provides."""

    reason = "unknown_tool"
