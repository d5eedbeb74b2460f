"""The auth service's schema: its tables and the migrations that build them."""

from pathlib import Path

from netra.auth.models import AuthBase
from netra.db.migrations import Schema

AUTH_SCHEMA = Schema("auth", AuthBase.metadata, Path(__file__).parent / "migrations")
