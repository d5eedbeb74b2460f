"""The auth service as a component of an app (alone, or embedded beside the backend)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from netra.auth.schema import AUTH_SCHEMA
from netra.health import Check
from netra.service import Runtime


class AuthComponent:
    name = "auth"
    schema = AUTH_SCHEMA

    def routers(self) -> Sequence[APIRouter]:
        return []

    def checks(self, runtime: Runtime) -> Sequence[Check]:
        return []

    async def start(self, runtime: Runtime) -> None:
        return None

    async def stop(self) -> None:
        return None
