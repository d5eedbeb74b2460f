"""The chat backend as a component of an app (alone, or embedded beside auth)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from netra.chat.schema import CHAT_SCHEMA
from netra.health import Check
from netra.service import Runtime
from netra.tokens import AuthServiceTokens
from netra.web import router as web_router


class ChatComponent:
    name = "backend"
    schema = CHAT_SCHEMA

    def __init__(self) -> None:
        self._tokens: AuthServiceTokens | None = None

    def routers(self) -> Sequence[APIRouter]:
        return [web_router()]

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        return self._tokens.checks() if self._tokens is not None else []

    async def start(self, runtime: Runtime) -> None:
        # Embedded (`netra up`): the auth component already set its in-process verifier.
        # Deployed apart: verify against the auth service's JWKS (docs/auth.md).
        if runtime.verifier is None:
            self._tokens = AuthServiceTokens(runtime.settings)
            await self._tokens.start()
            runtime.verifier = self._tokens.verifier

    async def stop(self) -> None:
        if self._tokens is not None:
            await self._tokens.stop()
