"""`/.well-known/jwks.json` (public keys) and `/.well-known/netra-auth.json` (what a
verifier must agree on; the backend compares it with its own settings at startup)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from netra.auth.routes.deps import State, bearer_token
from netra.auth.state import AuthState
from netra.errors import Unauthorized
from netra.tokens import TokenRejected


def router() -> APIRouter:
    api = APIRouter(prefix="/.well-known", tags=["keys"])

    @api.get("/jwks.json", summary="Public keys of every token that may still be live")
    async def jwks(state: State) -> JSONResponse:
        return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @api.get("/netra-auth.json", summary="Issuer, audience and algorithm of access tokens")
    async def token_config(request: Request, state: State) -> dict[str, Any]:
        body: dict[str, Any] = {
            "issuer": state.settings.jwt_issuer,
            "audience": state.settings.jwt_audience,
            "algorithm": state.settings.token_algorithm,
            "jwks_uri": "/.well-known/jwks.json",
        }
        if state.settings.token_algorithm == "HS256" and await _from_a_service(state, request):
            # A keyed fingerprint, not the secret: lets the backend name a mismatch. Only
            # for services: anyone else could test guesses of a weak secret against it.
            body["secret_fingerprint"] = state.keys.signer().kid
        return body

    return api


async def _from_a_service(state: AuthState, request: Request) -> bool:
    if "authorization" not in request.headers:
        return False
    try:
        principal = await state.verifier.verify(bearer_token(request))
    except (TokenRejected, Unauthorized):
        return False
    return principal.is_service
