"""The chat backend's schema: its tables and the migrations that build them."""

from pathlib import Path

import netra.usage.models  # noqa: F401 (its tables belong to the chat schema)
from netra.chat.models import ChatBase
from netra.db.migrations import Schema

CHAT_SCHEMA = Schema("chat", ChatBase.metadata, Path(__file__).parent / "migrations")
