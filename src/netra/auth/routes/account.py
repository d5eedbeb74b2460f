"""`/auth/register`, `/auth/login`, `/auth/refresh`, `/auth/logout(-all)`, `/auth/me`,
`/auth/password`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from netra.auth import audit
from netra.auth.errors import SafeRoute
from netra.auth.payloads import (
    LoginIn,
    MeOut,
    PasswordIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    Revoked,
    TokenPair,
)
from netra.auth.routes.deps import CurrentUser, Guards
from netra.auth.sessions import IssuedTokens, roles_of

REGISTERED = "If this address had no account, it has one now: sign in with POST /auth/login."


def _pair(issued: IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        session_id=issued.session_id,
    )


def router(guards: Guards) -> APIRouter:
    api = APIRouter(prefix="/auth", tags=["auth"], route_class=SafeRoute)
    state = guards.state
    session_user = guards.user(sessions_only=True)
    any_user = guards.user()

    @api.post("/register", status_code=201, summary="Create an account")
    async def register(body: RegisterIn, request: Request) -> RegisterOut:
        email = await state().accounts.register(
            body.email, body.password, body.name, state().client(request)
        )
        return RegisterOut(email=email, message=REGISTERED)

    @api.post("/login", summary="Sign in with email and password")
    async def login(body: LoginIn, request: Request) -> TokenPair:
        issued = await state().accounts.login(body.email, body.password, state().client(request))
        return _pair(issued)

    @api.post("/refresh", summary="Trade a refresh token for a new pair (rotation)")
    async def refresh(body: RefreshIn, request: Request) -> TokenPair:
        return _pair(await state().sessions.refresh(body.refresh_token, state().client(request)))

    @api.post("/logout", summary="Sign out this session")
    async def logout(
        current: Annotated[CurrentUser, Depends(session_user)], request: Request
    ) -> Revoked:
        return await _revoke(guards, current, request, only=current.session_id)

    @api.post("/logout-all", summary="Sign out every session of this account")
    async def logout_all(
        current: Annotated[CurrentUser, Depends(session_user)], request: Request
    ) -> Revoked:
        return await _revoke(guards, current, request)

    @api.get("/me", summary="The signed-in account")
    async def me(current: Annotated[CurrentUser, Depends(any_user)]) -> MeOut:
        user = current.user
        return MeOut(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            roles=roles_of(user),
            created_at=user.created_at,
            credential=current.principal.kind,
            session_id=current.session_id,
        )

    @api.post("/password", summary="Change the password; other sessions are signed out")
    async def change_password(
        body: PasswordIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> Revoked:
        count = await state().accounts.change_password(
            current.user.id,
            current.session_id,
            body.current_password,
            body.new_password,
            state().client(request),
        )
        return Revoked(revoked=count)

    return api


async def _revoke(
    guards: Guards, current: CurrentUser, request: Request, only: str | None = None
) -> Revoked:
    state = guards.state()
    async with state.db() as db, db.begin():
        reason = "logout" if only else "logout_all"
        ids = await state.sessions.revoke_sessions(db, current.user.id, reason, only=only)
        audit.record(
            db, reason, user_id=current.user.id, ip=state.client(request).ip, revoked=len(ids)
        )
    return Revoked(revoked=len(ids))
