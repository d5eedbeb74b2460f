"""The browser's refresh-token transport: an HttpOnly cookie the web UI never sees.

A client opts in with the header `X-Netra-Refresh: cookie` on /auth/login, /auth/refresh,
/auth/oidc/session and /auth/logout(-all). The refresh token then travels only in the
`netra_refresh` cookie (HttpOnly, SameSite=Strict, Path=/auth/refresh, Secure outside
development and test) and is left out of the JSON body, so script injected into the page
cannot read it.
CSRF: a cross-site page can neither send a SameSite=Strict cookie nor set a custom
header without a CORS preflight this service never grants; /auth/refresh also refuses
an `Origin` that is not this host's own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request, Response

from netra.auth.accounts import MfaChallenge
from netra.auth.payloads import MfaRequiredOut, TokenPair
from netra.auth.sessions import IssuedTokens
from netra.errors import Forbidden, Unauthorized
from netra.settings import Settings

COOKIE = "netra_refresh"
COOKIE_PATH = "/auth/refresh"
HEADER = "x-netra-refresh"


def wanted(request: Request) -> bool:
    """Whether the client asked for the cookie transport."""
    return request.headers.get(HEADER, "").lower() == "cookie"


def read(request: Request, settings: Settings) -> str:
    """The refresh token from the cookie, after the cross-site checks."""
    origin = request.headers.get("origin")
    if origin is not None and not _same_origin(origin, request, settings):
        raise Forbidden(f"origin {origin[:100]} may not refresh sessions here")
    token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthorized("no refresh cookie: sign in again", reason="missing")
    return token


def token_pair(
    issued: IssuedTokens, request: Request, response: Response, settings: Settings
) -> TokenPair:
    """The answer of a sign-in or refresh; with the cookie transport the refresh token
    goes only in the cookie."""
    refresh_token: str | None = issued.refresh_token
    if wanted(request):
        store(response, issued.refresh_token, settings)
        refresh_token = None
    return TokenPair(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=refresh_token,
        session_id=issued.session_id,
    )


def sign_in_answer(
    signed_in: IssuedTokens | MfaChallenge, request: Request, response: Response, settings: Settings
) -> TokenPair | MfaRequiredOut:
    """The answer of a first factor: the token pair, or the `mfa_required` step."""
    if isinstance(signed_in, MfaChallenge):
        return MfaRequiredOut(mfa_token=signed_in.mfa_token, methods=list(signed_in.methods))
    return token_pair(signed_in, request, response, settings)


def store(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_max_age),
        path=COOKIE_PATH,
        secure=not settings.environment.is_local,
        httponly=True,
        samesite="strict",
    )


def clear(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        secure=not settings.environment.is_local,
        httponly=True,
        samesite="strict",
    )


def _same_origin(origin: str, request: Request, settings: Settings) -> bool:
    own = {request.headers.get("host", "")}
    if settings.public_url is not None:
        own.add(urlsplit(str(settings.public_url)).netloc)
    return urlsplit(origin).netloc in own


def cleared(settings: Settings) -> str:
    """A `Set-Cookie` header value that deletes the cookie (for error answers)."""
    response = Response()
    clear(response, settings)
    return response.headers["set-cookie"]
