"""Declarative bases and column types shared by every service's models."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A service's own metadata: services own their tables even in a shared database."""
    return MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class _RandomIds:
    """Version 4 UUIDs' hex digits, cut from the operating system's random bytes read 4 KiB
    at a time (256 ids). `os.urandom` lets go of the GIL for its system call, and under
    load another thread (SQLite's connection) takes it then: each of a message's ids
    waited for it back (docs/architecture.md, Performance). `next` on a list's iterator is
    one step under the GIL, so threads never share an id; a forked child starts afresh,
    never repeating its parent's."""

    __slots__ = ("ahead",)
    DIGITS = 32
    READ = 256

    def __init__(self) -> None:
        self.ahead: Iterator[str] = iter(())

    def take(self) -> str:
        return next(self.ahead, None) or self._read()

    def _read(self) -> str:
        text = os.urandom(self.DIGITS // 2 * self.READ).hex()
        fresh = iter([text[at : at + self.DIGITS] for at in range(0, len(text), self.DIGITS)])
        first = next(fresh)
        self.ahead = fresh
        return first

    def forget(self) -> None:
        self.ahead = iter(())


_IDS = _RandomIds()
os.register_at_fork(after_in_child=_IDS.forget)
# A version 4 UUID's variant digit: its two high bits 10, its two low bits random.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_id() -> str:
    """A random (version 4) UUID as `str(uuid.uuid4())` writes it, without building the
    UUID object on the way (0.5 against 1.9 µs; every message takes a few)."""
    h = _IDS.take()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, as the
    text SQLAlchemy's SQLite DATETIME writes: `YYYY-MM-DD HH:MM:SS.ffffff`)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        """On SQLite one step from a datetime to its stored text, not this type's check
        then the DATETIME type's formatting (3.7 against 2.0 µs a value, and a message
        binds a dozen): the same text, so rows written before compare and sort with
        these. Elsewhere the type's own steps."""
        if dialect.name == "sqlite":
            return _SQLITE_TEXT_OF.bind
        return super().bind_processor(dialect)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _to_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _read_utc(value)


def _to_utc(value: datetime) -> datetime:
    """A datetime to store: in UTC (utcnow()'s as it is); a naive one is refused."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _read_utc(value: datetime) -> datetime:
    """A stored datetime read back: in UTC (a naive one was stored as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class _SQLiteText:
    """A UTC datetime's SQLite text. The last one is remembered, whichever column it
    was bound to: a group's rows share the datetime of its transaction (its events'
    times, the threads it moved), a new run's start is its creation."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[datetime | None, str | None] = (None, None)

    def bind(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        last = self.last  # one read: another thread may bind meanwhile
        if value is last[0]:
            return last[1]
        utc = _to_utc(value)
        text = _SQLITE_TEXT % (
            utc.year,
            utc.month,
            utc.day,
            utc.hour,
            utc.minute,
            utc.second,
            utc.microsecond,
        )
        self.last = (value, text)
        return text


_SQLITE_TEXT_OF = _SQLiteText()


def _sqlite_datetime(value: str | None) -> datetime | None:
    return None if value is None else _read_utc(datetime.fromisoformat(value))


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class CreatedMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__ = ["CreatedMixin", "DeclarativeBase", "IdMixin", "UTCDateTime", "new_metadata"]
