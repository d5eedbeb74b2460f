"""Which model and assistant a thread, a message or a run may use: the catalog's rules
against a user's roles, in one place for the routes, the socket and the run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netra.agents.catalog import ModelEntry, ModelSet
from netra.agents.catalog import ModelNotAllowed as CatalogModelNotAllowed
from netra.agents.catalog.catalog import BUILTIN_ASSISTANT
from netra.agents.runtime import Agent
from netra.chat.assistants import Assistants, Preset
from netra.chat.errors import ModelNotAllowed
from netra.chat.lookups import ThreadDefaults
from netra.chat.models import Thread
from netra.tokens import Principal


def stored_assistant(assistant_id: str | None) -> str | None:
    """A thread's assistant as stored: the builtin one is null, whichever way it was named."""
    return None if assistant_id == BUILTIN_ASSISTANT else assistant_id


@dataclass(frozen=True)
class Chosen:
    """What one run uses: its catalog entry, the agent serving it and its assistant."""

    entry: ModelEntry
    agent: Agent
    preset: Preset


@dataclass(eq=False)
class ModelChoice:
    """The process's models (its catalog and agents) and the assistants users may pick."""

    models: ModelSet
    assistants: Assistants

    def check_model(self, model: str | None, roles: Iterable[str]) -> None:
        """`model` (None: the default) is one these roles may use, else ModelNotAllowed."""
        if model is not None:
            self.choose_model(model, roles)

    def choose_model(self, model: str | None, roles: Iterable[str]) -> ModelEntry:
        try:
            return self.models.catalog.choose(model, roles)
        except CatalogModelNotAllowed as exc:
            raise ModelNotAllowed(exc.model_id) from None

    async def check_assistant(self, user: Principal, assistant_id: str | None) -> Preset:
        """The assistant a thread may be started with: one `user` may see
        (NoSuchAssistant otherwise) whose model their roles may use (ModelNotAllowed)."""
        preset = await self.assistants.get(user.subject, assistant_id or BUILTIN_ASSISTANT)
        self.check_model(preset.model, user.roles)
        return preset

    async def for_run(
        self,
        user_id: str,
        thread: Thread | ThreadDefaults,
        model: str | None,
        roles: Iterable[str],
    ) -> Chosen:
        """What a run of `thread` uses: the message's model, else the thread's, else its
        assistant's, else the default; one the catalog no longer declares is passed over."""
        preset = await self.assistants.for_run(user_id, thread.assistant_id)
        declared = self.models.catalog.model
        for fallback in (thread.model, preset.model):
            if model is None and fallback is not None and declared(fallback) is not None:
                model = fallback
        entry = self.choose_model(model, roles)
        return Chosen(entry, self.models.agent(entry.id), preset)
