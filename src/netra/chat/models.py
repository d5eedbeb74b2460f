"""The chat backend's tables. Users are referenced by id only: they live in the auth
service, which may have a database of its own."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from netra.db.base import CreatedMixin, IdMixin, UTCDateTime, new_metadata, utcnow


class ChatBase(DeclarativeBase):
    metadata = new_metadata()


class Thread(IdMixin, CreatedMixin, ChatBase):
    __tablename__ = "threads"

    user_id: Mapped[str] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The catalog model its messages use unless one names another; None: the default.
    model: Mapped[str | None] = mapped_column(String(64))
    # The assistant it was started with (netra.chat.assistants); None: the builtin one.
    assistant_id: Mapped[str | None] = mapped_column(String(64))
    # The message whose branch is shown (its path from the root is what the agent sees);
    # None: the thread has no message yet.
    active_leaf_id: Mapped[str | None] = mapped_column(String(36))


class Message(IdMixin, CreatedMixin, ChatBase):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("thread_id", "client_msg_id"),)

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    client_msg_id: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[str | None] = mapped_column(String(36))
    # Messages form a tree: an edit is a sibling of the message it edits, a regenerated
    # answer a sibling of the answer. None: a root (the thread's first message, or its edit).
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)


# A run in these states holds its thread: a new message waits or interrupts it.
ACTIVE = ("queued", "running", "waiting")
# A run in these states has a task on the instance holding its lease; a `waiting` one
# (for a tool approval) has none: its state is a `RunApproval` row.
LEASED = ("queued", "running")


class Run(IdMixin, CreatedMixin, ChatBase):
    __tablename__ = "runs"

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    user_message_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    provider: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    usage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    instance_id: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The day a budget admitted the run (it holds a place in flight on that day until
    # its usage is recorded); None when no budget applied.
    admitted_on: Mapped[date | None] = mapped_column(Date)


class RunEvent(ChatBase):
    """One agent event, numbered per thread without gaps, persisted before it is sent."""

    __tablename__ = "run_events"

    thread_id: Mapped[str] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    ts: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RunApproval(ChatBase):
    """A tool call waiting for (or given) a person's approval, with what its run needs to
    go on wherever the answer arrives (docs/architecture.md decision 9)."""

    __tablename__ = "run_approvals"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(36))
    tool: Mapped[str] = mapped_column(String(200))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The provider's checkpoint (netra.agents.approvals.Paused); cleared once resolved.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending, approved, denied, expired (the timeout declined it), cancelled (run ended)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Assistant(IdMixin, CreatedMixin, ChatBase):
    """An assistant made through the API: a user's own, or shared by an admin (no owner).
    The catalog's shared assistants are not rows: they live in MODELS_FILE."""

    __tablename__ = "assistants"

    # The owner of a personal assistant; None: shared with everyone.
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_by: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(100))
    instructions: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(64))
    tools: Mapped[list[str]] = mapped_column(JSON)
    starters: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Share(IdMixin, CreatedMixin, ChatBase):
    """A read-only snapshot of a thread at a secret URL; only the token's hash is kept."""

    __tablename__ = "shares"

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Feedback(IdMixin, CreatedMixin, ChatBase):
    """A user's thumbs up (1) or down (-1) on an answer, with an optional comment."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(36))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class File(IdMixin, CreatedMixin, ChatBase):
    """A file a user uploaded into one of their threads; its bytes are kept by a
    `FileStore` (netra.chat.files.store), its text in `file_chunks`."""

    __tablename__ = "files"

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    # For display only: no path parts, length-capped (netra.chat.files.sniff.safe_name).
    name: Mapped[str] = mapped_column(String(255))
    # Sniffed from the bytes, never taken from the client.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    # Characters of text extracted and indexed (0: an image, or no text).
    text_chars: Mapped[int] = mapped_column(Integer, default=0)
    # Why the text is partial (a PDF past its page or time cap), else None.
    text_note: Mapped[str | None] = mapped_column(Text)


class FileBlob(ChatBase):
    """A file's bytes, for the database `FileStore` (SQLite or PostgreSQL)."""

    __tablename__ = "file_blobs"

    file_id: Mapped[str] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class FileChunk(IdMixin, ChatBase):
    """A passage of a file's text, the unit of full-text search (chat_0010)."""

    __tablename__ = "file_chunks"

    file_id: Mapped[str] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class MessageFile(ChatBase):
    """A file attached to a user message (what the message's run is given)."""

    __tablename__ = "message_files"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[str] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


# The Core tables, for the hot path's statements, built once at import (building a
# statement costs more Python time than executing it): eventlog.py, store.py, runs.py.
threads_table = cast(Table, Thread.__table__)
messages_table = cast(Table, Message.__table__)
runs_table = cast(Table, Run.__table__)
run_events_table = cast(Table, RunEvent.__table__)
run_approvals_table = cast(Table, RunApproval.__table__)
file_chunks_table = cast(Table, FileChunk.__table__)


_Row = TypeVar("_Row", bound=ChatBase)


def new_row(cls: type[_Row], **values: Any) -> _Row:
    """The object of a new row that a Core INSERT writes (not an ORM flush): its
    attributes read back as given, the others as None. Built as SQLAlchemy builds the
    objects of the rows it loads (a new instance from the class's manager, the values
    in its dict), not through the constructor: its change tracking, with reading the
    values back for the INSERT, took 105 µs of the loop per posted message, 24 µs this
    way (docs/architecture.md, Performance). Never add it to a session: what it was
    given is not a pending change there."""
    if not cls.__mapper__.configured:  # as the constructor does first
        cls.registry.configure()
    row: _Row = cls.__mapper__.class_manager.new_instance()
    vars(row).update(values)
    return row


def insert_values(row: ChatBase) -> dict[str, Any]:
    """A new row's values for a Core INSERT (no ORM flush); unset ones left out, so they
    are SQL NULL (a JSON column would store None as JSON null)."""
    table = cast(Table, row.__table__)
    values = {column.key: getattr(row, column.key) for column in table.columns}
    return {key: value for key, value in values.items() if value is not None}
