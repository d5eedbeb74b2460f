"""The static web UI, served by the backend at `/`."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    @web.get("/")
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return web
