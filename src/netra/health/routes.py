"""`/health` (liveness) and `/health/ready` (readiness)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from netra.runtime import runtime_of

HEALTH_JSON = "application/health+json"

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", summary="Liveness: the process answers; touches no dependency")
async def liveness() -> JSONResponse:
    return JSONResponse({"status": "pass"}, media_type=HEALTH_JSON)


@router.get("/ready", summary="Readiness: every golden-path check, named")
async def readiness(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    result = await runtime.health.readiness()
    body = result.body()
    scores = {"pass": 1.0, "warn": 0.5, "fail": 0.0}
    for name, check in body["checks"].items():
        runtime.metrics.readiness.labels(name).set(scores[check["status"]])
    if not runtime.started:
        body["status"] = "fail"
        body["output"] = f"starting: phase {runtime.phase}"
    return JSONResponse(
        body, status_code=200 if result.ready and runtime.started else 503, media_type=HEALTH_JSON
    )


metrics_router = APIRouter(tags=["health"])


@metrics_router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    payload, content_type = runtime_of(request).metrics.exposition()
    return Response(payload, media_type=content_type)
