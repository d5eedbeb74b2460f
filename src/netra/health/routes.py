"""`/health` (liveness), `/health/ready` (readiness) and `/metrics`.

What a check says (hosts, paths, key ids, upstream errors) helps an attacker as much as
an operator: without credentials `/health/ready` names each check and its status only.
Details go to requests bearing OPS_TOKEN and to requests made on the machine itself
(from loopback and not through a proxy); `/metrics` likewise in staging/production.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from netra.runtime import runtime_of

HEALTH_JSON = "application/health+json"
FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")

router = APIRouter(prefix="/health", tags=["health"])


def trusted_with_details(request: Request) -> bool:
    """Whether this request may see what checks found, not only their status."""
    settings = runtime_of(request).settings
    if settings.ops_token is not None:
        expected = f"Bearer {settings.ops_token.get_secret_value()}"
        if hmac.compare_digest(request.headers.get("authorization", ""), expected):
            return True
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False  # came through a proxy: whoever is behind it is not "this machine"
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


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
    if not trusted_with_details(request):
        body = {
            "status": body["status"],
            "checks": {name: {"status": c["status"]} for name, c in body["checks"].items()},
        }
    return JSONResponse(
        body, status_code=200 if result.ready and runtime.started else 503, media_type=HEALTH_JSON
    )


metrics_router = APIRouter(tags=["health"])


@metrics_router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    settings = runtime_of(request).settings
    if not settings.environment.is_local and not trusted_with_details(request):
        return JSONResponse(
            {
                "detail": {
                    "reason": "ops_token_required",
                    "message": "metrics are for operators: send 'Authorization: Bearer "
                    "<OPS_TOKEN>' (or scrape from the machine itself)",
                }
            },
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="netra-ops"'},
        )
    payload, content_type = runtime_of(request).metrics.exposition()
    return Response(payload, media_type=content_type)
