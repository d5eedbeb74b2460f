"""`/health` (liveness) and `/health/ready` (readiness)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

HEALTH_JSON = "application/health+json"

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Liveness: the process answers; touches no dependency")
async def liveness() -> JSONResponse:
    return JSONResponse({"status": "pass"}, media_type=HEALTH_JSON)


@router.get("/ready", summary="Readiness: every golden-path check, named")
async def readiness(request: Request) -> JSONResponse:
    runtime = request.app.state.runtime
    result = await runtime.health.readiness()
    body = result.body()
    if not runtime.started:
        body["status"] = "fail"
        body["output"] = f"starting: phase {runtime.phase}"
    return JSONResponse(
        body, status_code=200 if result.ready and runtime.started else 503, media_type=HEALTH_JSON
    )
