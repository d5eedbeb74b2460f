"""`/auth/api-keys`: personal API keys (created once-shown, listed, revoked)."""

from typing import Annotated

from fastapi import APIRouter, Depends

from netra.auth.api_key_store import KNOWN_SCOPES
from netra.auth.models import ApiKey
from netra.auth.payloads import ApiKeyCreated, ApiKeyIn, ApiKeyOut, Revoked
from netra.auth.routes.deps import CurrentUser, State, session_user
from netra.errors import InvalidRequest, NotFound


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

    @api.post("", status_code=201, summary="Create an API key (its secret is shown once)")
    async def create(
        body: ApiKeyIn, current: Annotated[CurrentUser, Depends(session_user)], state: State
    ) -> ApiKeyCreated:
        unknown = set(body.scopes) - KNOWN_SCOPES
        if unknown:
            raise InvalidRequest(
                f"unknown scope(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(KNOWN_SCOPES))}"
            )
        key, secret = await state.api_keys.create(
            current.user.id, body.name, body.scopes, body.expires_in_days
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
