"""Request dependencies: the process's chat backend (reached through its runtime,
netra.runtime) and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from netra.chat.backend import ChatBackend, ServiceUnavailable
from netra.chat.models import Thread
from netra.runtime import runtime_of
from netra.tokens import Principal, TokenRejected

bearer = HTTPBearer(auto_error=False, description="An access token or an API key.")


def get_backend(connection: HTTPConnection) -> ChatBackend:
    backend = runtime_of(connection).get(ChatBackend)
    if backend is None:
        raise HTTPException(503, "the chat backend is starting, retry shortly")
    return backend


Backend = Annotated[ChatBackend, Depends(get_backend)]


async def get_user(
    backend: Backend,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    try:
        return await backend.authenticate(token)
    except TokenRejected as exc:
        raise HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"}) from None
    except PermissionError as exc:
        raise HTTPException(403, str(exc)) from None
    except ServiceUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "1"}) from None


User = Annotated[Principal, Depends(get_user)]


async def own_thread(backend: ChatBackend, user: Principal, thread_id: str) -> Thread:
    """The user's thread, or 404 whether it is missing or someone else's."""
    thread = await backend.threads.get(user.subject, thread_id)
    if thread is None:
        raise HTTPException(404, f"thread {thread_id} not found")
    return thread
