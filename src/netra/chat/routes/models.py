"""/api/models: the catalog models the caller may use (the composer's picker)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from netra.chat.routes.deps import Backend, Reader

router = APIRouter(prefix="/api/models", tags=["models"])


class ModelOut(BaseModel):
    id: str
    label: str
    capabilities: list[str]
    default: bool


@router.get("", response_model=list[ModelOut])
async def list_models(backend: Backend, user: Reader) -> list[ModelOut]:
    catalog = backend.models.catalog
    default = catalog.default.id
    return [
        ModelOut(
            id=entry.id,
            label=entry.title,
            capabilities=list(entry.capabilities),
            default=entry.id == default,
        )
        for entry in catalog.usable(user.roles)
    ]
