"""`/auth/api-keys`: personal API keys (created once-shown, listed, revoked)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from netra.auth.api_key_store import KNOWN_SCOPES
from netra.auth.models import ApiKey
from netra.auth.oidc.flow import REAUTH_WINDOW
from netra.auth.payloads import ApiKeyCreated, ApiKeyIn, ApiKeyOut, Revoked
from netra.auth.routes.deps import CurrentUser, State, session_user
from netra.auth.routes.oidc import REAUTH_COOKIE, REAUTH_PATH
from netra.auth.state import AuthState
from netra.errors import InvalidRequest, NotFound, Unauthorized


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        scopes=key.scopes.split(),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/api-keys", tags=["api keys"])

    @api.post(
        "",
        status_code=201,
        summary="Create an API key (its secret is shown once)",
        description="Needs the account's current password in `password` (401 "
        "`reauthentication_required` otherwise; guesses count like sign-ins). An account "
        "without a password signs in again at its provider first: "
        "`/auth/oidc/{provider}/login?reauth=true&next=...` leaves a one-time proof in an "
        "HttpOnly cookie that this request spends.",
    )
    async def create(
        body: ApiKeyIn,
        request: Request,
        response: Response,
        current: Annotated[CurrentUser, Depends(session_user)],
        state: State,
    ) -> ApiKeyCreated:
        await _reauthenticate(state, current, body.password, request, response)
        unknown = set(body.scopes) - KNOWN_SCOPES
        if unknown:
            raise InvalidRequest(
                f"unknown scope(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(KNOWN_SCOPES))}"
            )
        key, secret = await state.api_keys.create(
            current.user.id, body.name, body.scopes, body.expires_in_days, state.client(request)
        )
        return ApiKeyCreated(**key_out(key).model_dump(), api_key=secret)

    @api.get("", summary="This account's API keys (never their secrets)")
    async def list_keys(
        current: Annotated[CurrentUser, Depends(session_user)], state: State
    ) -> list[ApiKeyOut]:
        return [key_out(key) for key in await state.api_keys.list(current.user.id)]

    @api.delete("/{key_id}", summary="Revoke an API key")
    async def revoke(
        key_id: str, current: Annotated[CurrentUser, Depends(session_user)], state: State
    ) -> Revoked:
        async with state.db() as db, db.begin():
            count = await state.api_keys.revoke(db, current.user.id, key_id[:16])
        if not count:
            raise NotFound("no live API key of yours has this id")
        return Revoked(revoked=count)

    return api


async def _reauthenticate(
    state: AuthState,
    current: CurrentUser,
    password: str | None,
    request: Request,
    response: Response,
) -> None:
    """The person behind the session proves it again: the password, or (for an account
    without one) a fresh sign-in at its provider. A stolen access token is not enough."""
    user = current.user
    if user.password_hash is not None:
        device = state.accounts.devices.cookie(request)
        if await state.accounts.check_password(user, password, device):
            return
        message = "send the account's current password in `password` to create an API key"
    else:
        response.delete_cookie(REAUTH_COOKIE, path=REAUTH_PATH)
        proof = state.oidc.proofs.open(request.cookies.get(REAUTH_COOKIE))
        if proof is not None and proof.get("user_id") == user.id:
            # One use: the proof's id is counted once within its lifetime.
            uses, _ = await state.accounts.limiter.count(
                f"reauth:{proof.get('jti')}", REAUTH_WINDOW
            )
            if uses == 1:
                return
        message = (
            "sign in again at your provider first (/auth/oidc/<provider>/login?reauth=true), "
            "then create the key within five minutes"
        )
    raise Unauthorized(message, reason="reauthentication_required")
