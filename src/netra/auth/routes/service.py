"""Service-to-service: `/auth/service-token`, and what the backend's verifier asks the
auth service: `/auth/revocations` and `/auth/api-keys/introspect` (service tokens only)."""

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from netra.auth import audit
from netra.auth.models import ApiKey, UserSession
from netra.auth.payloads import IntrospectIn, ServiceTokenIn, ServiceTokenOut
from netra.auth.routes.deps import State, service_principal
from netra.db.base import utcnow
from netra.errors import Unauthorized
from netra.tokens import Principal, TokenRejected
from netra.tokens.revocations import epoch

# Revocations committed while a poll runs carry an earlier timestamp: overlap the polls.
POLL_OVERLAP = timedelta(seconds=5)
API_KEY_HORIZON = timedelta(days=1)


def router() -> APIRouter:
    api = APIRouter(prefix="/auth", tags=["services"])

    @api.post("/service-token", summary="Client credentials → a short-lived service token")
    async def service_token(
        body: ServiceTokenIn, request: Request, state: State
    ) -> ServiceTokenOut:
        # Counted like sign-ins: each attempt hashes a secret, and guesses must stay slow.
        await state.accounts.limit_ip("service-token", state.client(request))
        if not await state.services.authenticate(body.service_id, body.service_secret):
            async with state.db() as db, db.begin():
                audit.record(
                    db,
                    "service_auth_failed",
                    state.client(request),
                    actor=f"service:{body.service_id[:100]}",
                )
            raise Unauthorized("unknown service or wrong service secret", reason="invalid_client")
        token = state.issuer.service_token(body.service_id)
        return ServiceTokenOut(access_token=token, expires_in=state.issuer.ttl)

    @api.get("/revocations", summary="Sessions and API keys revoked since a moment")
    async def revocations(
        _: Annotated[Principal, Depends(service_principal)],
        state: State,
        since: Annotated[datetime | None, Query()] = None,
    ) -> dict[str, Any]:
        now = utcnow()
        horizon = timedelta(seconds=state.settings.access_token_ttl + state.settings.token_leeway)
        floor = now - horizon
        if since is not None and since.tzinfo is not None:
            floor = max(floor, since - POLL_OVERLAP)
        ttl = horizon.total_seconds()
        async with state.db() as db:
            sessions = await db.execute(
                select(UserSession.id, UserSession.revoked_at, UserSession.revoked_reason).where(
                    UserSession.revoked_at > floor
                )
            )
            keys = await db.execute(
                select(ApiKey.id, ApiKey.revoked_at).where(
                    ApiKey.revoked_at > max(floor, now - API_KEY_HORIZON)
                )
            )
            revoked = [
                {"id": sid, "until": epoch(at or now) + ttl, "reason": why}
                for sid, at, why in sessions
            ]
            revoked += [
                {"id": kid, "until": epoch(at or now) + 86400, "reason": "api_key_revoked"}
                for kid, at in keys
            ]
        return {"as_of": now.isoformat(), "revoked": revoked}

    @api.post(
        "/api-keys/introspect",
        summary="Resolve an API key for another service",
        description="`active: true` and the owner, or `active: false` with the reason the key "
        "is refused (RFC 7662); 401 only when the calling service's token is refused.",
    )
    async def introspect(
        body: IntrospectIn, _: Annotated[Principal, Depends(service_principal)], state: State
    ) -> dict[str, Any]:
        try:
            return await state.api_keys.introspect(body.api_key)
        except TokenRejected as exc:
            return {"active": False, "reason": exc.reason, "message": exc.message}

    return api
