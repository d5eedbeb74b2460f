"""/api/assistants: the builtin assistant, the shared ones and the caller's own
(netra.chat.assistants holds the rules)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StringConstraints

from netra.chat.assistants import Preset
from netra.chat.routes.deps import Backend, Reader, Writer
from netra.tokens import Principal

router = APIRouter(prefix="/api/assistants", tags=["assistants"])

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Instructions = Annotated[str, StringConstraints(max_length=20_000)]
ModelId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ToolName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Starter = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Tools = Annotated[list[ToolName], Field(max_length=64)]
Starters = Annotated[list[Starter], Field(max_length=8)]


class AssistantIn(BaseModel):
    name: Name
    instructions: Instructions = Field("", description="The system prompt of its runs.")
    model: ModelId | None = Field(None, description="A catalog model id; null: the default.")
    tools: Tools = Field(
        default_factory=list, description="Built-in tool names and MCP `server__tool` names."
    )
    starters: Starters = Field(default_factory=list, description="Prompts an empty thread offers.")
    shared: bool = Field(False, description="Shared with every user (admins only).")


class AssistantPatch(BaseModel):
    name: Name | None = None
    instructions: Instructions | None = None
    model: ModelId | None = Field(None, description="null: the thread's or default model.")
    tools: Tools | None = None
    starters: Starters | None = None


class AssistantOut(BaseModel):
    id: str
    name: str
    instructions: str
    model: str | None
    tools: list[str] = Field(description="For the builtin assistant: every tool there is.")
    starters: list[str]
    kind: Literal["builtin", "catalog", "shared", "personal"]
    shared: bool
    editable: bool = Field(description="Whether the caller may change or delete it.")
    created_at: datetime | None
    updated_at: datetime | None


def _out(backend: Backend, preset: Preset, user: Principal) -> AssistantOut:
    tools = preset.tools
    if tools is None:
        tools = tuple(item.name for item in backend.models.tools)
    return AssistantOut(
        id=preset.id,
        name=preset.name,
        instructions=preset.instructions,
        model=preset.model,
        tools=list(tools),
        starters=list(preset.starters),
        kind=preset.kind,
        shared=preset.shared,
        editable=preset.editable_by(user),
        created_at=preset.created_at,
        updated_at=preset.updated_at,
    )


@router.get("", response_model=list[AssistantOut])
async def list_assistants(backend: Backend, user: Reader) -> list[AssistantOut]:
    presets = await backend.assistants.list_for(user)
    return [_out(backend, preset, user) for preset in presets]


@router.post("", response_model=AssistantOut, status_code=201)
async def create_assistant(backend: Backend, user: Writer, body: AssistantIn) -> AssistantOut:
    """A personal assistant, or with `shared: true` (admins) one for everyone."""
    backend.choice.check_model(body.model, user.roles)
    fields = body.model_dump(exclude={"shared"})
    preset = await backend.assistants.create(user, fields, shared=body.shared)
    return _out(backend, preset, user)


@router.get("/{assistant_id}", response_model=AssistantOut)
async def get_assistant(backend: Backend, user: Reader, assistant_id: str) -> AssistantOut:
    return _out(backend, await backend.assistants.get(user.subject, assistant_id), user)


@router.patch("/{assistant_id}", response_model=AssistantOut)
async def update_assistant(
    backend: Backend, user: Writer, assistant_id: str, body: AssistantPatch
) -> AssistantOut:
    """Change the fields sent; a name, tools or starters sent as null are left alone."""
    await backend.assistants.editable(user, assistant_id)
    backend.choice.check_model(body.model, user.roles)
    changes = body.model_dump(include=body.model_fields_set)
    changes = {key: value for key, value in changes.items() if value is not None or key == "model"}
    preset = await backend.assistants.update(user, assistant_id, changes)
    return _out(backend, preset, user)


@router.delete("/{assistant_id}", status_code=204)
async def delete_assistant(backend: Backend, user: Writer, assistant_id: str) -> Response:
    """Threads started with it go on with the builtin assistant."""
    await backend.assistants.delete(user, assistant_id)
    return Response(status_code=204)
