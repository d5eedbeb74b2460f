"""The static web UI, served by the backend at `/` (no build step: ES modules and CSS).

Every answer carries a strict Content-Security-Policy: scripts and styles only from
this origin, no inline script or style, no frames, no plugins. Static files are
revalidated on each load (`no-cache` with an ETag), so a deploy is seen at once and an
unchanged file costs a 304.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def secured(response: Response, cache: str) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = cache
    return response


def router() -> APIRouter:
    """`/` (the app's one page) and `/static/...` (its modules, styles and icons)."""
    web = APIRouter(include_in_schema=False)
    files = StaticFiles(directory=STATIC)

    @web.get("/")
    async def index() -> Response:
        return secured(FileResponse(STATIC / "index.html"), "no-cache")

    @web.get("/static/{path:path}")
    async def static(path: str, request: Request) -> Response:
        response = await files.get_response(path, request.scope)
        return secured(response, "no-cache")

    return web
