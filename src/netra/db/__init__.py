"""Database: the URL builder, engines, shared model types and migrations."""

from netra.db.engine import (
    DatabaseUnavailable,
    create_engine,
    create_read_engine,
    explain,
    fill_pool,
    ping,
    sessionmaker,
)
from netra.db.migrations import Schema, SchemaStatus
from netra.db.url import DatabaseUrlError, database_url, describe

__all__ = [
    "DatabaseUnavailable",
    "DatabaseUrlError",
    "Schema",
    "SchemaStatus",
    "create_engine",
    "create_read_engine",
    "database_url",
    "describe",
    "explain",
    "fill_pool",
    "ping",
    "sessionmaker",
]
