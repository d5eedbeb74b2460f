"""Request dependencies of the auth routes: the state, the bearer, the current user.
The state is reached one way, through the process's runtime (netra.runtime)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.requests import HTTPConnection

from netra.auth.errors import AuthError, forbidden, from_rejection, unauthorized
from netra.auth.models import User, UserSession
from netra.auth.state import AuthState
from netra.db.base import utcnow
from netra.runtime import runtime_of
from netra.tokens import Principal, TokenRejected


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


def auth_state(connection: HTTPConnection) -> AuthState:
    """The auth service's state, once its signing keys are loaded (503 until then)."""
    state = runtime_of(connection).get(AuthState)
    if state is None:
        raise AuthError(503, "unavailable", "the auth service is starting: signing keys not loaded")
    return state


State = Annotated[AuthState, Depends(auth_state)]


async def verified_principal(request: Request) -> Principal:
    token = bearer_token(request)
    try:
        return await auth_state(request).verifier.verify(token)
    except TokenRejected as exc:
        raise from_rejection(exc) from None


def _user(*, sessions_only: bool) -> Callable[..., Awaitable[CurrentUser]]:
    async def dependency(
        principal: Annotated[Principal, Depends(verified_principal)], state: State
    ) -> CurrentUser:
        if principal.is_service:
            raise unauthorized("wrong_type", "a user's token is required, not a service token")
        if sessions_only and principal.kind != "access":
            raise forbidden("this needs a signed-in session, not an API key")
        async with state.db() as db:
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


# A user behind the request, not a service; `session_user`: signed in with an access token
# (API keys cannot manage sessions, passwords or keys).
any_user = _user(sessions_only=False)
session_user = _user(sessions_only=True)


async def admin_user(current: Annotated[CurrentUser, Depends(session_user)]) -> CurrentUser:
    if current.user.role != "admin":
        raise forbidden("this needs the admin role")
    return current


async def service_principal(
    principal: Annotated[Principal, Depends(verified_principal)],
) -> Principal:
    if not principal.is_service:
        raise AuthError(403, "forbidden", "this endpoint is for services only")
    return principal
