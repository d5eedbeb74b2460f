"""The validated catalog: what the backend asks of it at run time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from netra.agents.catalog.schema import AssistantEntry, McpServerEntry, ModelEntry
from netra.errors import DomainError

# The assistant a thread has unless it was started with another: every tool, no
# instructions of its own (the provider's system prompt), the thread's or default model.
BUILTIN_ASSISTANT = "builtin"


class ModelNotAllowed(DomainError):
    """The caller named a model that is not in the catalog or not for their roles."""

    reason = "model_not_allowed"

    def __init__(self, model_id: str) -> None:
        super().__init__(f"model {model_id!r} is not one you may use; GET /api/models lists them")
        self.model_id = model_id


@dataclass(frozen=True)
class Catalog:
    models: tuple[ModelEntry, ...]
    mcp_servers: tuple[McpServerEntry, ...] = ()
    assistants: tuple[AssistantEntry, ...] = ()
    # Values of the secrets the entries reference, by setting name; never logged.
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Where it came from, for messages: the file, or "AGENT_PROVIDER".
    origin: str = "AGENT_PROVIDER"

    @cached_property
    def default(self) -> ModelEntry:
        """The model marked `default`, else the first one (every message asks: found once)."""
        return next((entry for entry in self.models if entry.default), self.models[0])

    def model(self, model_id: str) -> ModelEntry | None:
        return self._by_id.get(model_id)

    @cached_property
    def _by_id(self) -> dict[str, ModelEntry]:
        """The models by id (the first of an id wins); every run prices itself by one."""
        return {entry.id: entry for entry in reversed(self.models)}

    def usable(self, roles: Iterable[str]) -> list[ModelEntry]:
        """The models a caller with these roles may use, in the file's order."""
        held = set(roles)
        return [entry for entry in self.models if held.intersection(entry.roles)]

    def choose(self, model_id: str | None, roles: Iterable[str]) -> ModelEntry:
        """The model a run uses: the one named, else the default; raises
        `ModelNotAllowed` for an unknown id or one these roles may not use. The default
        is the operator's choice and needs no role."""
        if model_id is None:
            return self.default
        entry = self.model(model_id)
        if entry is None or not set(roles).intersection(entry.roles):
            raise ModelNotAllowed(model_id)
        return entry

    def chain(self, model_id: str) -> list[ModelEntry]:
        """The model and its fallbacks in order (the loader refused loops)."""
        entries: list[ModelEntry] = []
        entry = self.model(model_id)
        while entry is not None and entry not in entries:
            entries.append(entry)
            entry = self.model(entry.fallback) if entry.fallback else None
        return entries

    def assistant(self, assistant_id: str) -> AssistantEntry | None:
        return next((entry for entry in self.assistants if entry.id == assistant_id), None)

    def secret(self, name: str | None) -> str | None:
        return self.secrets.get(name) if name else None
