"""The chat backend as a component of an app (alone, or embedded beside auth)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from netra.chat.schema import CHAT_SCHEMA
from netra.health import Check
from netra.service import Runtime
from netra.web import router as web_router


class ChatComponent:
    name = "backend"
    schema = CHAT_SCHEMA

    def routers(self) -> Sequence[APIRouter]:
        return [web_router()]

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        return []

    async def start(self, runtime: Runtime) -> None:
        return None

    async def stop(self) -> None:
        return None
