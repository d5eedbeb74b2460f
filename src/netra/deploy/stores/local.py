"""The local target's store: a directory with one file per secret (as Cloud Run and
Kubernetes mount them), or a single `NAME=value` env file."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from netra.deploy.stores import SecretStore, SecretStoreError, VersionState
from netra.deploy.wiring import SecretRef


class LocalSecretStore(SecretStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = f"local secrets {path}"

    def _values(self) -> dict[str, str]:
        if self.path.is_file():
            raw = dotenv_values(self.path)
            return {key: value or "" for key, value in raw.items()}
        if self.path.is_dir():
            return {
                entry.name: entry.read_text(encoding="utf-8").strip()
                for entry in self.path.iterdir()
                if entry.is_file()
            }
        raise SecretStoreError(
            f"{self.path} does not exist: create the directory with one file per secret "
            "(or an env file), or fix secrets_dir in deploy/environments.toml"
        )

    def names(self) -> list[str]:
        return sorted(self._values())

    def state(self, ref: SecretRef) -> tuple[VersionState, str]:
        values = self._values()
        if ref.secret not in values:
            return VersionState.MISSING_SECRET, ""
        if not values[ref.secret]:
            return VersionState.NO_ENABLED_VERSION, f"{ref.secret} is empty"
        return VersionState.ENABLED, ""

    def read(self, ref: SecretRef) -> str:
        return self._values()[ref.secret]

    def planned_calls(self, ref: SecretRef) -> list[str]:
        return [f"read {self.path / ref.secret}"]
