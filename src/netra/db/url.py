"""The one database URL builder: SQLite, PostgreSQL over TCP, or a Cloud SQL socket.

Passwords are escaped by SQLAlchemy's `URL.create` and never rendered: every message
about a database uses `describe()`, which has no password in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from netra.settings import Problem, Settings

CLOUD_SQL_ROOT = Path("/cloudsql")
_POSTGRES = {
    "postgres",
    "postgresql",
    "postgresql+asyncpg",
    "postgresql+psycopg",
    "postgresql+psycopg2",
}
_SQLITE = {"sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"}
EXAMPLES = "postgresql://USER:PASSWORD@HOST:5432/NAME or sqlite:///path/to/netra.db"


class DatabaseUrlError(ValueError):
    """DATABASE_URL (or the DB_* parts) cannot be turned into a usable URL."""


def database_url(settings: Settings) -> URL:
    """The async SQLAlchemy URL for these settings."""
    if settings.database_url is not None:
        return _from_string(settings.database_url.get_secret_value())
    if settings.db_name is not None:
        query = {}
        host = settings.db_host
        if settings.cloud_sql_instance is not None:
            query["host"] = str(CLOUD_SQL_ROOT / settings.cloud_sql_instance)
            host = None
        password = settings.db_password.get_secret_value() if settings.db_password else None
        return URL.create(
            "postgresql+asyncpg",
            username=settings.db_user,
            password=password,
            host=host,
            port=None if host is None else settings.db_port,
            database=settings.db_name,
            query=query,
        )
    return URL.create("sqlite+aiosqlite", database=str(settings.sqlite_path))


def _from_string(raw: str) -> URL:
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        # The raw text may hold a password: say what is wrong, never echo it.
        raise DatabaseUrlError(f"is not a valid database URL; expected {EXAMPLES}") from exc
    if url.drivername in _POSTGRES:
        if not url.database:
            raise DatabaseUrlError(f"names no database ({describe(url)}); expected {EXAMPLES}")
        query = dict(url.query)
        sslmode = query.pop("sslmode", None)
        if sslmode is not None:  # libpq spelling; asyncpg calls it `ssl`
            query["ssl"] = sslmode
        return url.set(drivername="postgresql+asyncpg", query=query)
    if url.drivername in _SQLITE:
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlError(
                "must name a SQLite file (an in-memory database would be "
                "empty for every connection)"
            )
        return url.set(drivername="sqlite+aiosqlite")
    raise DatabaseUrlError(f"uses the unsupported scheme '{url.drivername}'; expected {EXAMPLES}")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def cloud_sql_socket_dir(url: URL) -> Path | None:
    """The Cloud SQL proxy's socket directory this URL connects through, if any."""
    host = url.query.get("host")
    if isinstance(host, str) and host.startswith(f"{CLOUD_SQL_ROOT}/"):
        return Path(host)
    return None


def describe(url: URL) -> str:
    """Where the database is, for messages and logs; never includes the password."""
    if is_sqlite(url):
        return f"SQLite file {url.database}"
    socket = cloud_sql_socket_dir(url) or url.query.get("host")
    where = f"socket {socket}" if socket else f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"PostgreSQL database '{url.database}' at {where}"


def check_database_settings(settings: Settings) -> Iterable[Problem]:
    """The contract check for the database: the URL can be built."""
    try:
        database_url(settings)
    except DatabaseUrlError as exc:
        yield Problem("DATABASE_URL", str(exc))
