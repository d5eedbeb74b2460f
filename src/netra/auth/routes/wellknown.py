"""`/.well-known/jwks.json` (public keys) and `/.well-known/netra-auth.json` (what a
verifier must agree on; the backend compares it with its own settings at startup)."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from netra.auth.routes.deps import State


def router() -> APIRouter:
    api = APIRouter(prefix="/.well-known", tags=["keys"])

    @api.get("/jwks.json", summary="Public keys of every token that may still be live")
    async def jwks(state: State) -> JSONResponse:
        return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @api.get("/netra-auth.json", summary="Issuer, audience and algorithm of access tokens")
    async def token_config(state: State) -> dict[str, Any]:
        body: dict[str, Any] = {
            "issuer": state.settings.jwt_issuer,
            "audience": state.settings.jwt_audience,
            "algorithm": state.settings.token_algorithm,
            "jwks_uri": "/.well-known/jwks.json",
        }
        if state.settings.token_algorithm == "HS256":
            # A keyed fingerprint, not the secret: lets the backend name a mismatch.
            body["secret_fingerprint"] = state.keys.signer().kid
        return body

    return api
