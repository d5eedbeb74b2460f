"""Engines and connection errors a person can act on (docs/incidents.md I-1)."""

from __future__ import annotations

import asyncio
import socket
import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from netra import jsontext
from netra.db.sqlite_driver import OneTripDBAPI
from netra.db.url import cloud_sql_socket_dir, database_url, describe, is_sqlite
from netra.settings import Settings

# A queue of a few thousand short transactions drains in seconds; minutes means stuck.
SQLITE_POOL_TIMEOUT = 120.0
SQLITE_READERS = 4
# Each SQLite connection's pragmas. WAL lets readers go on while a writer commits;
# busy_timeout waits for another process's lock (a CLI command beside the server)
# instead of failing at once; SQLite leaves foreign keys off unless asked; a read-only
# connection refuses writes (one there would be a bug).
_WRITER_PRAGMAS = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON")
_READER_PRAGMAS = ("busy_timeout=30000", "query_only=ON")
# Seconds unused in the pool after which a PostgreSQL connection is pinged before use.
PING_AFTER_IDLE = 10.0
# JSON columns are encoded as socket frames are (netra.jsontext).
_JSON: dict[str, Any] = {"json_serializer": jsontext.dumps}


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message names where and why, never a password."""


def create_engine(settings: Settings, url: URL | None = None) -> AsyncEngine:
    """An engine for these settings. Connecting is lazy; call `ping` to prove it works."""
    url = url or database_url(settings)
    if is_sqlite(url):
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite lets one writer in at a time, and writers on
        # several connections wait for each other by polling (busy_timeout), unfairly:
        # under load some waited past the timeout ("database is locked"). With one
        # connection, transactions take turns in the pool's queue, in order.
        return _sqlite_engine(settings, url, 1, _WRITER_PRAGMAS)
    # A fixed set of connections, no overflow: under a burst a transaction waits for one
    # (DB_POOL_TIMEOUT) rather than opening another that is closed again when it is
    # done; that churn (TCP, authentication, statements prepared again) cost more CPU
    # than the whole rest of a message (docs/architecture.md, Performance).
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout,
        connect_args={"timeout": settings.db_connect_timeout},
        **_JSON,
    )
    event.listen(engine.sync_engine, "checkin", _idle_since)
    event.listen(engine.sync_engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


def create_read_engine(settings: Settings, url: URL) -> AsyncEngine | None:
    """For a SQLite file, a second engine of `SQLITE_READERS` read-only connections: the
    reads on a message's path (its thread, its run's history) then go on while the one
    writing connection commits (WAL lets readers in), instead of queueing behind every
    commit. None for PostgreSQL (its pool serves reads and writes) and in-memory SQLite
    (another connection would be another database)."""
    if not is_sqlite(url) or url.database in (None, "", ":memory:"):
        return None
    return _sqlite_engine(settings, url, SQLITE_READERS, _READER_PRAGMAS)


def _sqlite_engine(
    settings: Settings, url: URL, connections: int, pragmas: tuple[str, ...]
) -> AsyncEngine:
    engine = create_async_engine(
        url,
        module=OneTripDBAPI(),
        pool_size=connections,
        max_overflow=0,
        pool_timeout=SQLITE_POOL_TIMEOUT,
        connect_args={"timeout": settings.db_connect_timeout},
        **_JSON,
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    event.listen(engine.sync_engine, "connect", on_connect)
    return engine


def _idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat unused in the pool (a server restart, a proxy's idle
    timeout or a failover may have dropped it); raising DisconnectionError makes the pool
    replace it. Not every checkout, as pool_pre_ping does: on asyncpg that is three round
    trips (BEGIN, ping, ROLLBACK) before each transaction. A connection that dies while
    busy fails one statement, and SQLAlchemy then replaces the whole pool."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError(f"pooled connection dropped while idle: {exc}") from exc


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def missing_socket(url: URL) -> str | None:
    """The sentence for a Cloud SQL socket directory that is not there (docs/incidents.md I-1)."""
    socket_dir = cloud_sql_socket_dir(url)
    if socket_dir is None or socket_dir.exists():
        return None
    instance = socket_dir.name
    return (
        f"Cloud SQL socket {socket_dir} is missing: is the instance {instance} attached "
        "to this service (Cloud Run: run.googleapis.com/cloudsql-instances)? If the "
        "deployment failed earlier, e.g. while loading secrets, the proxy never started."
    )


def check_reachable_path(url: URL) -> None:
    """Fail in words before connecting through a Cloud SQL socket that is not there."""
    sentence = missing_socket(url)
    if sentence is not None:
        raise DatabaseUnavailable(sentence)


async def ping(engine: AsyncEngine, timeout: float = 5.0) -> None:
    """Prove the database answers, or raise `DatabaseUnavailable` saying why."""
    check_reachable_path(engine.url)
    try:
        async with asyncio.timeout(timeout), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except TimeoutError as exc:
        raise DatabaseUnavailable(
            f"{describe(engine.url)} did not answer within {timeout:g}s"
        ) from exc
    except (OSError, DBAPIError, OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(explain(engine.url, exc)) from exc


async def fill_pool(engine: AsyncEngine) -> None:
    """Open the pool's connections now (at startup), not in the first burst of requests:
    each is a TCP connection, authentication and the driver's set-up, round trips the
    burst would wait on. Best effort: one that fails is left for a request (and
    readiness) to report."""
    size = getattr(engine.pool, "size", None)
    if size is None:
        return
    opening = (engine.connect() for _ in range(size()))
    opened = await asyncio.gather(*opening, return_exceptions=True)
    for connection in opened:
        if not isinstance(connection, BaseException):
            await connection.close()


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's and the adapter's wrappers."""
    seen: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig else exc
    while seen.__cause__ is not None and not hasattr(seen, "sqlstate"):
        seen = seen.__cause__
    return seen


_SQLSTATES = {
    "3D000": "the database does not exist (create it, or fix the name)",
    "28P01": "the server refused the user or password",
    "28000": "the server refused the user or password",
    "57P03": "the server is starting up or shutting down",
    "53300": "the server has no free connections",
}


def explain(url: URL, exc: BaseException) -> str:
    """A connection failure in words, naming host or socket and database. Any component
    that catches a database error logs this, never the driver's raw text."""
    sentence = missing_socket(url)
    if sentence is not None:
        return sentence
    where = describe(url)
    cause = _root_cause(exc)
    if isinstance(cause, ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused (is the server running?)"
    if isinstance(cause, socket.gaierror):
        return f"cannot connect to {where}: the host name does not resolve"
    if isinstance(cause, FileNotFoundError):
        return f"cannot connect to {where}: the Unix socket does not exist"
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate in _SQLSTATES:
        return f"cannot connect to {where}: {_SQLSTATES[sqlstate]}"
    detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return f"cannot connect to {where}: {detail}"
