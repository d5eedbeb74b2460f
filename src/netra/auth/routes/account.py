"""`/auth/register`, `/auth/login`, `/auth/refresh`, `/auth/logout(-all)`, `/auth/me`,
`/auth/password`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from netra import http_errors
from netra.auth import audit, cookies
from netra.auth.accounts import MfaChallenge
from netra.auth.identity import normalize_email
from netra.auth.payloads import (
    LoginIn,
    LoginMfaIn,
    MeOut,
    MfaRequiredOut,
    PasswordChanged,
    PasswordIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    Revoked,
    TokenPair,
)
from netra.auth.routes.deps import CurrentUser, State, profile_user, session_user
from netra.auth.sessions import roles_of
from netra.auth.state import AuthState
from netra.errors import DomainError, InvalidRequest

REGISTERED = "If this address had no account, it has one now: sign in with POST /auth/login."


def router() -> APIRouter:
    api = APIRouter(prefix="/auth", tags=["auth"])

    @api.post("/register", status_code=201, summary="Create an account")
    async def register(body: RegisterIn, request: Request, state: State) -> RegisterOut:
        email = await state.accounts.register(
            body.email, body.password, body.name, state.client(request)
        )
        return RegisterOut(email=email, message=REGISTERED)

    @api.post(
        "/login",
        summary="Sign in with email and password",
        description="With a second factor on the account: `{mfa_required, mfa_token, "
        "methods}` and no tokens; finish with POST /auth/login/mfa.",
    )
    async def login(
        body: LoginIn, request: Request, response: Response, state: State
    ) -> TokenPair | MfaRequiredOut:
        accounts = state.accounts
        cookie = accounts.devices.cookie(request)
        issued = await accounts.login(body.email, body.password, state.client(request), cookie)
        # A browser that signed in (both factors if asked): remember it (netra.auth.devices).
        if not isinstance(issued, MfaChallenge) and cookies.wanted(request):
            # It signed in: the address is valid.
            accounts.devices.remember(request, response, normalize_email(body.email))
        return cookies.sign_in_answer(issued, request, response, state.settings)

    @api.post("/login/mfa", summary="Second step of a sign-in: a TOTP or recovery code")
    async def login_mfa(
        body: LoginMfaIn, request: Request, response: Response, state: State
    ) -> TokenPair:
        accounts = state.accounts
        cookie = accounts.devices.cookie(request)
        issued, email = await accounts.login_mfa(
            body.mfa_token, body.code, body.recovery_code, state.client(request), cookie
        )
        if cookies.wanted(request):  # a browser that finished the sign-in: remember it
            accounts.devices.remember(request, response, email)
        return cookies.token_pair(issued, request, response, state.settings)

    @api.post(
        "/refresh",
        response_model=TokenPair,
        summary="Trade a refresh token for a new pair (rotation)",
        description="The token comes from the body, or from the `netra_refresh` cookie "
        "when the request carries `X-Netra-Refresh: cookie` (docs/auth.md).",
    )
    async def refresh(
        request: Request, response: Response, state: State, body: RefreshIn | None = None
    ) -> TokenPair | Response:
        settings = state.settings
        use_cookie = body is None and cookies.wanted(request)
        try:
            if body is not None:
                token = body.refresh_token
            elif use_cookie:
                token = cookies.read(request, settings)
            else:
                raise InvalidRequest("send refresh_token, or use the cookie")
            issued = await state.sessions.refresh(token, state.client(request))
        except DomainError as exc:
            if not use_cookie:
                raise
            refusal = http_errors.render(exc)
            # A dead cookie is cleared, so the browser stops sending it.
            refusal.headers["set-cookie"] = cookies.cleared(settings)
            return refusal
        return cookies.token_pair(issued, request, response, state.settings)

    @api.post("/logout", summary="Sign out this session")
    async def logout(
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        response: Response,
        state: State,
    ) -> Revoked:
        cookies.clear(response, state.settings)
        return await _revoke(state, current, request, only=current.session_id)

    @api.post("/logout-all", summary="Sign out every session of this account")
    async def logout_all(
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        response: Response,
        state: State,
    ) -> Revoked:
        cookies.clear(response, state.settings)
        return await _revoke(state, current, request)

    @api.get("/me", summary="The signed-in account")
    async def me(current: Annotated[CurrentUser, Depends(profile_user)], state: State) -> MeOut:
        user = current.user
        async with state.db() as db:
            mfa_enabled = await state.mfa.enabled(db, user.id)
            passkeys = await state.passkeys.count(db, user.id)
        return MeOut(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            roles=roles_of(user),
            created_at=user.created_at,
            credential=current.principal.kind,
            session_id=current.session_id,
            email_verified=user.email_verified_at is not None,
            mfa_enabled=mfa_enabled,
            passkeys=passkeys,
        )

    @api.post("/password", summary="Change the password; other sessions are signed out")
    async def change_password(
        body: PasswordIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        state: State,
    ) -> PasswordChanged:
        count = await state.accounts.change_password(
            current.user.id,
            current.session_id,
            body.current_password,
            body.new_password,
            state.client(request),
            device_cookie=state.accounts.devices.cookie(request),
        )
        keys = 0
        if body.revoke_api_keys:
            async with state.db() as db, db.begin():
                keys = await state.api_keys.revoke(db, current.user.id)
                audit.record(
                    db,
                    "api_keys_revoked",
                    state.client(request),
                    user_id=current.user.id,
                    revoked=keys,
                )
        return PasswordChanged(revoked=count, revoked_api_keys=keys)

    return api


async def _revoke(
    state: AuthState, current: CurrentUser, request: Request, only: str | None = None
) -> Revoked:
    async with state.db() as db, db.begin():
        reason = "logout" if only else "logout_all"
        ids = await state.sessions.revoke_sessions(db, current.user.id, reason, only=only)
        audit.record(db, reason, state.client(request), user_id=current.user.id, revoked=len(ids))
    return Revoked(revoked=len(ids))
