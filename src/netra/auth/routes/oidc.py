"""`/auth/oidc/...`: sign in with an OpenID provider (docs/oidc.md).

`GET /providers` (buttons), `GET /{provider}/login?next=` (to the provider),
`GET /{provider}/callback` (back from it; sets a one-time handoff cookie and redirects to
`next`), `POST /session` (the web UI trades that cookie for the token pair of a password
login; with `X-Netra-Refresh: cookie` the refresh token goes in its HttpOnly cookie),
`POST /link` (a sign-in whose email belongs to an existing account: its password makes
the link), `GET /identities` and `DELETE /identities/{id}` (linked providers)."""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from netra import http_errors
from netra.auth import cookies
from netra.auth.models import User
from netra.auth.oidc.flow import HANDOFF_TTL, LINK_TTL, LOGIN_TTL, REAUTH_WINDOW, digest
from netra.auth.payloads import MfaRequiredOut, TokenPair
from netra.auth.routes.deps import CurrentUser, State, session_user
from netra.auth.state import AuthState
from netra.errors import Conflict, DomainError, Unauthorized

LOGIN_COOKIE = "netra_oidc_login"
HANDOFF_COOKIE = "netra_oidc_handoff"
LOGIN_COOKIE_PATH = "/auth/oidc"
HANDOFF_PATH = "/auth/oidc/session"
LINK_COOKIE = "netra_oidc_link"
REAUTH_MODE_COOKIE = "netra_oidc_reauth"
# The proof of a fresh provider sign-in, spent by the one action that asks for it.
REAUTH_COOKIE = "netra_reauth"
REAUTH_PATH = "/auth/api-keys"


class ProviderOut(BaseModel):
    name: str
    display_name: str
    login_url: str


class IdentityOut(BaseModel):
    id: str
    provider: str
    email: str | None
    created_at: str
    last_login_at: str | None


class Unlinked(BaseModel):
    unlinked: int


class LinkIn(BaseModel):
    password: str = Field(max_length=1024)


def _refusal(request: Request, exc: DomainError) -> Response:
    """Browser flows answer a page a person can read; API clients the usual JSON."""
    row = http_errors.answer_for(exc)
    headers = {"Cache-Control": "no-store", **http_errors.headers_for(exc, row)}
    if "text/html" in request.headers.get("accept", ""):
        page = (
            "<!doctype html><meta charset=utf-8><title>Sign-in failed</title>"
            f"<h1>Sign-in failed</h1><p>{escape(exc.message)}</p>"
            f"<p><code>{escape(exc.reason)}</code></p><p><a href=/>Back to sign-in</a></p>"
        )
        return HTMLResponse(page, status_code=row.status, headers=headers)
    body = http_errors.body(exc.reason, exc.message)
    return JSONResponse(body, status_code=row.status, headers=headers)


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/oidc", tags=["oidc"])

    def secure(state: AuthState) -> bool:
        return not state.settings.environment.is_local

    @api.get("/providers", summary="Providers to show as 'Sign in with ...' buttons")
    async def providers(state: State) -> list[ProviderOut]:
        return [
            ProviderOut(
                name=p.name,
                display_name=p.config.display_name,
                login_url=f"/auth/oidc/{p.name}/login",
            )
            for p in state.oidc.providers.values()
        ]

    @api.get("/{provider}/login", summary="Go to the provider (code flow, PKCE S256)")
    async def login(
        provider: str,
        request: Request,
        state: State,
        next: Annotated[str | None, Query(max_length=2000)] = None,
        reauth: Annotated[bool, Query(description="Sign in again to prove it is you")] = False,
    ) -> Response:
        try:
            # Each start stores a pending login: count them like password sign-ins.
            await state.accounts.limit_ip("oidc_login", state.client(request))
            started = await state.oidc.begin(provider, next, reauth=reauth)
        except DomainError as exc:
            return _refusal(request, exc)
        response = RedirectResponse(started.url, status_code=302)
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            LOGIN_COOKIE,
            started.browser_secret,
            max_age=int(LOGIN_TTL.total_seconds()),
            path=LOGIN_COOKIE_PATH,
            httponly=True,
            secure=secure(state),
            samesite="lax",  # the provider's redirect back is a cross-site GET navigation
        )
        if reauth:  # bound to this sign-in's browser secret: a stale one means nothing
            response.set_cookie(
                REAUTH_MODE_COOKIE,
                digest(started.browser_secret),
                max_age=int(LOGIN_TTL.total_seconds()),
                path=LOGIN_COOKIE_PATH,
                httponly=True,
                secure=secure(state),
                samesite="lax",
            )
        else:
            response.delete_cookie(REAUTH_MODE_COOKIE, path=LOGIN_COOKIE_PATH)
        return response

    @api.get("/{provider}/callback", summary="Back from the provider")
    async def callback(provider: str, request: Request, state: State) -> Response:
        params = dict(request.query_params.items())
        browser = request.cookies.get(LOGIN_COOKIE)
        reauth = bool(browser) and request.cookies.get(REAUTH_MODE_COOKIE) == digest(browser or "")
        try:
            done = await state.oidc.complete(
                provider, params, browser, state.client(request), reauth=reauth
            )
        except DomainError as exc:
            return _refusal(request, exc)
        response = RedirectResponse(done.next_url, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.delete_cookie(LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
        response.delete_cookie(REAUTH_MODE_COOKIE, path=LOGIN_COOKIE_PATH)
        if done.reauth_proof is not None:
            response.set_cookie(
                REAUTH_COOKIE,
                done.reauth_proof,
                max_age=int(REAUTH_WINDOW),
                path=REAUTH_PATH,
                httponly=True,
                secure=secure(state),
                samesite="strict",
            )
            return response
        # The same answer whether the sign-in is ready or waits for a link: only the
        # cookie differs, and only the person who signed in at the provider sees it.
        name, value, path, ttl = (
            (LINK_COOKIE, done.pending_link, LOGIN_COOKIE_PATH, LINK_TTL)
            if done.pending_link is not None
            else (HANDOFF_COOKIE, done.handoff_secret or "", HANDOFF_PATH, HANDOFF_TTL)
        )
        response.set_cookie(
            name,
            value,
            max_age=int(ttl.total_seconds()),
            path=path,
            httponly=True,
            secure=secure(state),
            samesite="strict",
        )
        return response

    @api.post(
        "/session",
        summary="Trade the handoff cookie for a token pair (once)",
        description="An account with a second factor answers `{mfa_required, mfa_token, "
        "methods}` and no tokens, as POST /auth/login does; finish with POST /auth/login/mfa.",
    )
    async def session(
        request: Request, response: Response, state: State
    ) -> TokenPair | MfaRequiredOut:
        response.delete_cookie(HANDOFF_COOKIE, path=HANDOFF_PATH)
        response.headers["Cache-Control"] = "no-store"
        pending = state.oidc.pending(request.cookies.get(LINK_COOKIE))
        if pending is not None and HANDOFF_COOKIE not in request.cookies:
            raise Conflict(
                f"an account with the address {pending.email} exists: sign in to it with "
                f"its password (POST /auth/oidc/link) to link {pending.provider} to it",
                reason="link_required",
            )
        issued = await state.oidc.finish(request.cookies.get(HANDOFF_COOKIE), state.client(request))
        return cookies.sign_in_answer(issued, request, response, state.settings)

    _link_route(api)
    _identity_routes(api)

    return api


def _link_route(api: APIRouter) -> None:
    @api.post(
        "/link",
        summary="Link the provider sign-in waiting in this browser to its existing account",
        description="After `/session` answered 409 `link_required`: the existing account's "
        "password proves it is the same person; the link is made and a session begins. An "
        "account with a second factor answers `mfa_required` first: the link is made when "
        "POST /auth/login/mfa accepts the code.",
    )
    async def link(
        body: LinkIn, request: Request, response: Response, state: State
    ) -> TokenPair | MfaRequiredOut:
        response.headers["Cache-Control"] = "no-store"
        pending = state.oidc.pending(request.cookies.get(LINK_COOKIE))
        if pending is None:
            raise Unauthorized("no provider sign-in is waiting to be linked", reason="invalid_link")
        async with state.db() as db:
            user = await db.get(User, pending.user_id)
        device = state.accounts.devices.cookie(request)
        if user is None or not await state.accounts.check_password(user, body.password, device):
            raise Unauthorized(
                "the password of this account is wrong", reason="invalid_credentials"
            )
        signed_in = await state.accounts.sign_in(
            user, "password", state.client(request), link=pending
        )
        response.delete_cookie(LINK_COOKIE, path=LOGIN_COOKIE_PATH)
        return cookies.sign_in_answer(signed_in, request, response, state.settings)


def _identity_routes(api: APIRouter) -> None:
    @api.get("/identities", summary="Providers linked to this account")
    async def identities(
        current: Annotated[CurrentUser, Depends(session_user)], state: State
    ) -> list[IdentityOut]:
        rows = await state.oidc.links.list(current.user.id)
        return [
            IdentityOut(
                id=row.id,
                provider=row.provider,
                email=row.email,
                created_at=row.created_at.isoformat(),
                last_login_at=row.last_login_at.isoformat() if row.last_login_at else None,
            )
            for row in rows
        ]

    @api.delete("/identities/{identity_id}", summary="Unlink a provider (not the last way in)")
    async def unlink(
        identity_id: str,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        state: State,
    ) -> Unlinked:
        await state.oidc.links.unlink(current.user.id, identity_id, state.client(request))
        return Unlinked(unlinked=1)
