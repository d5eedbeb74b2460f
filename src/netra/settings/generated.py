"""Development and test secrets, generated on first use and kept under DATA_DIR.

Kept as a secrets directory (one file per setting, mode 0600) so that every process of
one development installation agrees, and so they are found exactly like mounted secrets.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


class GeneratedSecrets:
    def __init__(self, directory: Path, *, persist: bool) -> None:
        self.directory = directory
        self.persist = persist

    def get_or_create(self, name: str, generate: Callable[[], str]) -> str:
        path = self.directory / name
        if path.is_file():
            existing = path.read_text(encoding="utf-8").strip()
            if existing:
                return existing
        value = generate()
        if self.persist:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            # O_EXCL: when two processes start at once, the first writer wins and the
            # other reads its value instead of silently keeping a different secret.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return path.read_text(encoding="utf-8").strip() or value
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value)
        return value
