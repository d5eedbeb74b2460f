"""Request dependencies of the auth routes: the state, the bearer, the current user."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from netra.auth.errors import AuthError, forbidden, from_rejection, unauthorized
from netra.auth.models import User, UserSession
from netra.auth.state import AuthState
from netra.db.base import utcnow
from netra.tokens import Principal, TokenRejected
from netra.tokens.scopes import Scope, require_scope

StateGetter = Callable[[], AuthState]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("missing", "send the access token as 'Authorization: Bearer <token>'")
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
        try:
            return await self.state().verifier.verify(bearer_token(request))
        except TokenRejected as exc:
            raise from_rejection(exc) from None

    def user(
        self, *, sessions_only: bool = False, scope: Scope | None = None
    ) -> Callable[..., Awaitable[CurrentUser]]:
        """A user behind the request: not a service; holding `scope` (docs/auth.md,
        "Scopes"); with `sessions_only`, signed in with an access token (an API key never
        manages credentials, whatever its scopes)."""

        async def dependency(
            principal: Annotated[Principal, Depends(self.principal)],
        ) -> CurrentUser:
            if principal.is_service:
                raise unauthorized("wrong_type", "a user's token is required, not a service token")
            if sessions_only and principal.kind != "access":
                raise forbidden("this needs a signed-in session, not an API key")
            if scope is not None:
                require_scope(principal, scope)
            async with self.state().db() as db:
                user = await db.get(User, principal.subject)
                session = await db.get(UserSession, principal.session_id or "")
            if user is None or user.deleted_at is not None:
                raise unauthorized("unknown_user", "this account no longer exists")
            if not user.is_active:
                raise unauthorized("account_disabled", "this account is disabled")
            if principal.kind == "access" and (
                session is None or session.revoked_at is not None or session.expires_at <= utcnow()
            ):
                raise unauthorized("revoked", "this session has been signed out")
            return CurrentUser(user, principal)

        return dependency

    def admin(self) -> Callable[..., Awaitable[CurrentUser]]:
        user_dependency = self.user(sessions_only=True)

        async def dependency(
            current: Annotated[CurrentUser, Depends(user_dependency)],
        ) -> CurrentUser:
            if current.user.role != "admin":
                raise forbidden("this needs the admin role")
            return current

        return dependency

    async def service(self, request: Request) -> Principal:
        principal = await self.principal(request)
        if not principal.is_service:
            raise AuthError(403, "forbidden", "this endpoint is for services only")
        return principal
