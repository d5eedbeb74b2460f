"""Request dependencies of the auth routes: the state, the bearer, the current user.
The state is reached one way, through the process's runtime (netra.runtime)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.requests import HTTPConnection

from netra.auth.models import User, UserSession
from netra.auth.state import AuthState
from netra.db.base import utcnow
from netra.errors import Forbidden, Unauthorized, Unavailable
from netra.runtime import runtime_of
from netra.tokens import Principal
from netra.tokens.scopes import PROFILE, Scope, require_scope


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


def auth_state(connection: HTTPConnection) -> AuthState:
    """The auth service's state, once its signing keys are loaded (503 until then)."""
    state = runtime_of(connection).get(AuthState)
    if state is None:
        raise Unavailable("the auth service is starting: signing keys not loaded")
    return state


State = Annotated[AuthState, Depends(auth_state)]


async def verified_principal(request: Request) -> Principal:
    token = bearer_token(request)
    return await auth_state(request).verifier.verify(token)


def _user(
    *, sessions_only: bool, scope: Scope | None = None
) -> Callable[..., Awaitable[CurrentUser]]:
    async def dependency(
        principal: Annotated[Principal, Depends(verified_principal)], state: State
    ) -> CurrentUser:
        if principal.is_service:
            raise Unauthorized(
                "a user's token is required, not a service token", reason="wrong_type"
            )
        if sessions_only and principal.kind != "access":
            raise Forbidden("this needs a signed-in session, not an API key")
        if scope is not None:
            require_scope(principal, scope)
        async with state.db() as db:
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


# A user behind the request, not a service. `profile_user`: holding the `profile` scope
# (docs/auth.md, "Scopes"); `session_user`: signed in with an access token (an API key
# never manages credentials, whatever its scopes).
profile_user = _user(sessions_only=False, scope=PROFILE)
session_user = _user(sessions_only=True)


async def admin_user(current: Annotated[CurrentUser, Depends(session_user)]) -> CurrentUser:
    if current.user.role != "admin":
        raise Forbidden("this needs the admin role")
    return current


async def service_principal(
    principal: Annotated[Principal, Depends(verified_principal)],
) -> Principal:
    if not principal.is_service:
        raise Forbidden("this endpoint is for services only")
    return principal
