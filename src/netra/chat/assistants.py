"""Assistants: named presets of instructions, model, tools and starter prompts.

Three kinds, one shape (`Preset`): the builtin assistant (every tool, the provider's own
system prompt), shared ones (the catalog's `[[assistants]]`, and rows an admin made
through the API) and personal ones (rows with an owner). Another user's personal
assistant reads as absent; a shared one is read-only except to admins (rows only: the
catalog's change in MODELS_FILE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.catalog import AssistantEntry, ModelSet
from netra.agents.catalog.catalog import BUILTIN_ASSISTANT
from netra.agents.catalog.loader import tool_problem
from netra.chat.errors import AdminsOnly, AssistantReadOnly, NoSuchAssistant, UnknownTool
from netra.chat.models import Assistant
from netra.db.base import utcnow
from netra.tokens import Principal

Kind = Literal["builtin", "catalog", "shared", "personal"]
BUILTIN_STARTERS = ("What is 17 * 23?", "What time is it in Tokyo?", "Summarize this thread")


@dataclass(frozen=True)
class Preset:
    """An assistant as runs and clients see it, whichever kind it is."""

    id: str
    name: str
    instructions: str
    model: str | None
    # None: every tool the user may have (the builtin assistant).
    tools: tuple[str, ...] | None
    starters: tuple[str, ...]
    kind: Kind
    owner: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def shared(self) -> bool:
        return self.kind != "personal"

    def editable_by(self, user: Principal) -> bool:
        if self.kind == "personal":
            return self.owner == user.subject
        return self.kind == "shared" and user.is_admin


BUILTIN = Preset(
    id=BUILTIN_ASSISTANT,
    name="Netra",
    instructions="",
    model=None,
    tools=None,
    starters=BUILTIN_STARTERS,
    kind="builtin",
)


def from_entry(entry: AssistantEntry) -> Preset:
    return Preset(
        id=entry.id,
        name=entry.name,
        instructions=entry.instructions,
        model=entry.model,
        tools=entry.tools,
        starters=entry.starters,
        kind="catalog",
    )


def from_row(row: Assistant) -> Preset:
    return Preset(
        id=row.id,
        name=row.name,
        instructions=row.instructions,
        model=row.model,
        tools=tuple(row.tools),
        starters=tuple(row.starters),
        kind="personal" if row.user_id is not None else "shared",
        owner=row.user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Assistants:
    """Every assistant a user may see, and the rules for making and changing them,
    against the process's models and tools."""

    def __init__(self, db: async_sessionmaker[AsyncSession], models: ModelSet) -> None:
        self.db = db
        self.models = models

    async def list_for(self, user: Principal) -> list[Preset]:
        """The builtin assistant, the shared ones and the user's own, in that order."""
        catalog = self.models.catalog
        async with self.db() as session:
            rows = await session.scalars(
                select(Assistant)
                .where(or_(Assistant.user_id.is_(None), Assistant.user_id == user.subject))
                .order_by(Assistant.user_id.is_not(None), Assistant.created_at, Assistant.id)
            )
            made = [from_row(row) for row in rows]
        return [BUILTIN, *(from_entry(entry) for entry in catalog.assistants), *made]

    async def find(self, user_id: str, assistant_id: str | None) -> Preset | None:
        """The assistant if `user_id` may see it (None: the builtin one)."""
        if assistant_id is None or assistant_id == BUILTIN_ASSISTANT:
            return BUILTIN
        entry = self.models.catalog.assistant(assistant_id)
        if entry is not None:
            return from_entry(entry)
        async with self.db() as session:
            row = await session.get(Assistant, assistant_id)
        if row is None or row.user_id not in (None, user_id):
            return None
        return from_row(row)

    async def get(self, user_id: str, assistant_id: str) -> Preset:
        preset = await self.find(user_id, assistant_id)
        if preset is None:
            raise NoSuchAssistant(assistant_id)
        return preset

    async def for_run(self, user_id: str, assistant_id: str | None) -> Preset:
        """The thread's assistant; one deleted since the thread started: the builtin one."""
        return await self.find(user_id, assistant_id) or BUILTIN

    def check_tools(self, tools: Iterable[str]) -> None:
        """Every tool is a built-in one or `server__tool` of a declared MCP server that
        exposes it, else `UnknownTool` naming it and what there is."""
        models = self.models
        servers = {server.name: server for server in models.catalog.mcp_servers}
        registered = {item.name for item in models.tools}
        for name in tools:
            if name in registered:
                continue
            problem = tool_problem(name, servers)
            if problem:
                known = ", ".join(sorted(registered)) or "none"
                raise UnknownTool(f"{problem}; tools available now: {known}")

    async def create(self, user: Principal, fields: Mapping[str, Any], *, shared: bool) -> Preset:
        """A personal assistant of `user`, or (admins only) a shared one. The caller has
        checked the model (ModelChoice.check_model)."""
        if shared and not user.is_admin:
            raise AdminsOnly()
        self.check_tools(fields.get("tools", ()))
        now = utcnow()
        row = Assistant(
            user_id=None if shared else user.subject,
            created_by=user.subject,
            name=fields["name"],
            instructions=fields.get("instructions", ""),
            model=fields.get("model"),
            tools=list(fields.get("tools", ())),
            starters=list(fields.get("starters", ())),
            created_at=now,
            updated_at=now,
        )
        async with self.db.begin() as session:
            session.add(row)
        return from_row(row)

    async def update(
        self, user: Principal, assistant_id: str, changes: Mapping[str, Any]
    ) -> Preset:
        """Change the fields given (a None model: the thread's or the default one)."""
        await self.editable(user, assistant_id)
        if "tools" in changes:
            self.check_tools(changes["tools"])
        async with self.db.begin() as session:
            row = await session.get(Assistant, assistant_id, with_for_update=True)
            if row is None:
                raise NoSuchAssistant(assistant_id)
            for key in ("name", "instructions", "model"):
                if key in changes:
                    setattr(row, key, changes[key])
            for key in ("tools", "starters"):
                if key in changes:
                    setattr(row, key, list(changes[key]))
            row.updated_at = utcnow()
        return from_row(row)

    async def delete(self, user: Principal, assistant_id: str) -> None:
        """Threads started with it go on with the builtin assistant."""
        await self.editable(user, assistant_id)
        async with self.db.begin() as session:
            row = await session.get(Assistant, assistant_id)
            if row is not None:
                await session.delete(row)

    async def editable(self, user: Principal, assistant_id: str) -> Preset:
        """The assistant if `user` may change it: NoSuchAssistant if they cannot see it,
        AssistantReadOnly if it is the builtin one, the catalog's, or shared and they
        are no admin."""
        preset = await self.get(user.subject, assistant_id)
        if not preset.editable_by(user):
            raise AssistantReadOnly(_read_only_reason(preset))
        return preset


def _read_only_reason(preset: Preset) -> str:
    if preset.kind == "builtin":
        return "the builtin assistant cannot be changed"
    if preset.kind == "catalog":
        return f"assistant {preset.id!r} is defined in MODELS_FILE; change it there"
    return f"assistant {preset.id!r} is shared: only admins change it"
