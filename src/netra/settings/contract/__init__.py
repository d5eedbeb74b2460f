"""The one configuration contract: every setting of both services, declared once.

Each field's `Spec` says which services need it, whether it is a secret, where it is
required and under which names it may be found. The declaration is split by concern
(process.py, auth.py, accounts.py, chat.py, files.py) and composed here into the one
`Settings`; `netra config docs` renders it into docs/configuration.md; startup and
`netra config check` resolve it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict

from netra.settings.contract.accounts import AccountSettings
from netra.settings.contract.auth import AuthSettings
from netra.settings.contract.chat import ChatSettings
from netra.settings.contract.files import FileSettings
from netra.settings.contract.process import ProcessSettings


# Pydantic collects fields base-last-first, so this order lists the process's settings
# first, then auth's, accounts', chat's, then files' (docs/configuration.md follows it).
class Settings(FileSettings, ChatSettings, AccountSettings, AuthSettings, ProcessSettings):
    """Resolved configuration. Build it with `netra.settings.load_settings`, never by hand
    outside tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def sqlite_path(self) -> Path:
        """The embedded default's database file."""
        return self.data_dir / "netra.db"
