"""Request dependencies: the process's chat backend (reached through its runtime,
netra.runtime) and the authenticated user with the scope the route declares (`Reader`:
chat:read, `Writer`: chat)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from netra.chat.backend import ChatBackend
from netra.errors import Unavailable
from netra.runtime import runtime_of
from netra.tokens import Principal
from netra.tokens.scopes import CHAT, CHAT_READ, Scope, require_scope

bearer = HTTPBearer(auto_error=False, description="An access token or an API key.")


def get_backend(connection: HTTPConnection) -> ChatBackend:
    backend = runtime_of(connection).get(ChatBackend)
    if backend is None:
        raise Unavailable("the chat backend is starting, retry shortly", retry_after=1.0)
    return backend


Backend = Annotated[ChatBackend, Depends(get_backend)]


async def get_user(
    backend: Backend,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    return await backend.authenticate(token)


def needs(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """The authenticated user, holding `scope` (403 insufficient_scope otherwise)."""

    async def dependency(user: Annotated[Principal, Depends(get_user)]) -> Principal:
        return require_scope(user, scope)

    return dependency


# Every route declares what it needs by which of these it takes (docs/auth.md, "Scopes"):
Reader = Annotated[Principal, Depends(needs(CHAT_READ))]
Writer = Annotated[Principal, Depends(needs(CHAT))]
