"""Request dependencies: the process's chat backend (reached through its runtime,
netra.runtime) and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from netra.chat.backend import ChatBackend
from netra.errors import Unavailable
from netra.runtime import runtime_of
from netra.tokens import Principal

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


User = Annotated[Principal, Depends(get_user)]
