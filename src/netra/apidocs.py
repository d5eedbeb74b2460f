"""`/docs`: Swagger UI from the `swagger-ui-bundle` package, never a CDN, under a CSP.

FastAPI's own page loads its script and styles from a CDN and starts Swagger UI with an
inline script; this one serves the package's files at `/docs/assets/` and starts it from
`/docs/init.js`, so `script-src 'self'` holds. Swagger UI sets inline styles and uses
`data:` icons, which the policy allows, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(swagger_ui_path)
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  deepLinking: true,
});
"""


def router(title: str) -> APIRouter:
    docs = APIRouter(include_in_schema=False)
    files = StaticFiles(directory=ASSETS)
    page = PAGE.format(title=title.replace("<", "&lt;"))

    @docs.get("/docs")
    async def swagger_ui() -> Response:
        return HTMLResponse(page, headers=HEADERS)

    @docs.get("/docs/init.js")
    async def init() -> Response:
        return Response(INIT, media_type="text/javascript", headers=HEADERS)

    @docs.get("/docs/assets/{path:path}")
    async def assets(path: str, request: Request) -> Response:
        response = await files.get_response(path, request.scope)
        response.headers.update(HEADERS)
        return response

    return docs
