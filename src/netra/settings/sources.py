"""Where settings may come from: the process environment, a secrets directory, `.env`.

Each source answers a lookup with a value and a description of where it was found, so
the report can say exactly which variable or file a value came from (never the value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values


@dataclass(frozen=True)
class Found:
    value: str
    where: str


class SourceError(Exception):
    """A source holds the setting but it cannot be used (unreadable or empty file)."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


class Source:
    label: str

    def get(self, name: str) -> Found | None:
        raise NotImplementedError

    def names(self) -> Iterable[str]:
        raise NotImplementedError

    def place(self, name: str) -> str:
        raise NotImplementedError


class EnvironmentSource(Source):
    label = "environment"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> Found | None:
        if name in self._environ:
            return Found(self._environ[name], f"environment variable {name}")
        return None

    def names(self) -> Iterable[str]:
        return self._environ.keys()

    def place(self, name: str) -> str:
        return f"${name}"


class SecretsDirSource(Source):
    """One file per setting, as Cloud Run and Kubernetes mount secrets."""

    label = "secrets directory"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, name: str) -> Found | None:
        path = self.directory / name
        if not path.exists():
            return None
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SourceError(f"cannot read {path}: {reason}", str(path)) from exc
        if not value:
            raise SourceError(f"{path} is empty", str(path))
        return Found(value, f"file {path}")

    def names(self) -> Iterable[str]:
        if not self.directory.is_dir():
            return []
        return [entry.name for entry in self.directory.iterdir() if entry.is_file()]

    def place(self, name: str) -> str:
        return str(self.directory / name)


class DotEnvSource(Source):
    """`.env` in the working directory; read in development only."""

    label = ".env"

    def __init__(self, path: Path) -> None:
        self.path = path
        raw = dotenv_values(path) if path.is_file() else {}
        self._values = {key: value for key, value in raw.items() if value is not None}

    def get(self, name: str) -> Found | None:
        if name in self._values:
            return Found(self._values[name], f"{self.path} ({name})")
        return None

    def names(self) -> Iterable[str]:
        return self._values.keys()

    def place(self, name: str) -> str:
        return f"{self.path}:{name}"
