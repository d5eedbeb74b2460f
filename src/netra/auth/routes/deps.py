"""Request dependencies of the auth routes: the state, the bearer, the current user."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from netra.auth.models import User, UserSession
from netra.auth.state import AuthState
from netra.db.base import utcnow
from netra.errors import Forbidden, Unauthorized
from netra.tokens import Principal

StateGetter = Callable[[], AuthState]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "send the access token as 'Authorization: Bearer <token>'", reason="missing"
        )
    return token.strip()


@dataclass(frozen=True)
class CurrentUser:
    user: User
    principal: Principal

    @property
    def session_id(self) -> str | None:
        return self.principal.session_id


class Guards:
    """Dependencies bound to one component's state (no module-level state)."""

    def __init__(self, state: StateGetter) -> None:
        self.state = state

    async def principal(self, request: Request) -> Principal:
        return await self.state().verifier.verify(bearer_token(request))

    def user(self, *, sessions_only: bool = False) -> Callable[..., Awaitable[CurrentUser]]:
        """A user behind the request: not a service; with `sessions_only`, signed in with
        an access token (API keys cannot manage sessions, passwords or keys)."""

        async def dependency(
            principal: Annotated[Principal, Depends(self.principal)],
        ) -> CurrentUser:
            if principal.is_service:
                raise Unauthorized(
                    "a user's token is required, not a service token", reason="wrong_type"
                )
            if sessions_only and principal.kind != "access":
                raise Forbidden("this needs a signed-in session, not an API key")
            async with self.state().db() as db:
                user = await db.get(User, principal.subject)
                session = await db.get(UserSession, principal.session_id or "")
            if user is None or user.deleted_at is not None:
                raise Unauthorized("this account no longer exists", reason="unknown_user")
            if not user.is_active:
                raise Unauthorized("this account is disabled", reason="account_disabled")
            if principal.kind == "access" and (
                session is None or session.revoked_at is not None or session.expires_at <= utcnow()
            ):
                raise Unauthorized("this session has been signed out", reason="revoked")
            return CurrentUser(user, principal)

        return dependency

    def admin(self) -> Callable[..., Awaitable[CurrentUser]]:
        user_dependency = self.user(sessions_only=True)

        async def dependency(
            current: Annotated[CurrentUser, Depends(user_dependency)],
        ) -> CurrentUser:
            if current.user.role != "admin":
                raise Forbidden("this needs the admin role")
            return current

        return dependency

    async def service(self, request: Request) -> Principal:
        principal = await self.principal(request)
        if not principal.is_service:
            raise Forbidden("this endpoint is for services only")
        return principal
