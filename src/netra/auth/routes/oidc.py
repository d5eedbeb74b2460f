"""`/auth/oidc/...`: sign in with an OpenID provider (docs/oidc.md).

`GET /providers` (buttons), `GET /{provider}/login?next=` (to the provider),
`GET /{provider}/callback` (back from it; sets a one-time handoff cookie and redirects to
`next`), `POST /session` (the web UI trades that cookie for the token pair of a password
login; with `X-Netra-Refresh: cookie` the refresh token goes in its HttpOnly cookie),
`GET /identities` and `DELETE /identities/{id}` (linked providers)."""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from netra import http_errors
from netra.auth import cookies
from netra.auth.oidc.flow import HANDOFF_TTL, LOGIN_TTL
from netra.auth.payloads import TokenPair
from netra.auth.routes.deps import CurrentUser, State, session_user
from netra.auth.state import AuthState
from netra.errors import DomainError

LOGIN_COOKIE = "netra_oidc_login"
HANDOFF_COOKIE = "netra_oidc_handoff"
LOGIN_COOKIE_PATH = "/auth/oidc"
HANDOFF_PATH = "/auth/oidc/session"


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
    ) -> Response:
        try:
            # Each start stores a pending login: count them like password sign-ins.
            await state.accounts.limit_ip("oidc_login", state.client(request))
            started = await state.oidc.begin(provider, next)
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
        return response

    @api.get("/{provider}/callback", summary="Back from the provider")
    async def callback(provider: str, request: Request, state: State) -> Response:
        params = dict(request.query_params.items())
        try:
            done = await state.oidc.complete(
                provider, params, request.cookies.get(LOGIN_COOKIE), state.client(request)
            )
        except DomainError as exc:
            return _refusal(request, exc)
        response = RedirectResponse(done.next_url, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.delete_cookie(LOGIN_COOKIE, path=LOGIN_COOKIE_PATH)
        response.set_cookie(
            HANDOFF_COOKIE,
            done.handoff_secret,
            max_age=int(HANDOFF_TTL.total_seconds()),
            path=HANDOFF_PATH,
            httponly=True,
            secure=secure(state),
            samesite="strict",
        )
        return response

    @api.post("/session", summary="Trade the handoff cookie for a token pair (once)")
    async def session(request: Request, response: Response, state: State) -> TokenPair:
        response.delete_cookie(HANDOFF_COOKIE, path=HANDOFF_PATH)
        response.headers["Cache-Control"] = "no-store"
        issued = await state.oidc.finish(request.cookies.get(HANDOFF_COOKIE), state.client(request))
        return cookies.token_pair(issued, request, response, state.settings)

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
        await state.oidc.links.unlink(current.user.id, identity_id, state.client(request).ip)
        return Unlinked(unlinked=1)

    return api
