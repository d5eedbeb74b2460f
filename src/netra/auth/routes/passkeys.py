"""`/auth/passkeys...`: add, list, rename and remove passkeys; sign in with one."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from netra.auth import cookies
from netra.auth.models import Passkey
from netra.auth.payloads import (
    PasskeyBeginIn,
    PasskeyFinishIn,
    PasskeyLoginIn,
    PasskeyOut,
    PasskeyRenameIn,
    TokenPair,
)
from netra.auth.routes.deps import CurrentUser, State, session_user


def passkey_out(row: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at
    )


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/passkeys", tags=["passkeys"])

    @api.post("/register/begin", summary="WebAuthn creation options (password or code first)")
    async def register_begin(
        state: State,
        body: PasskeyBeginIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> dict[str, Any]:
        return await state.passkeys.register_begin(
            current.user.id,
            body.password,
            body.code,
            state.client(request),
            state.accounts.devices.cookie(request),
        )

    @api.post("/register/finish", summary="Store the new passkey")
    async def register_finish(
        state: State,
        body: PasskeyFinishIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> PasskeyOut:
        row = await state.passkeys.register_finish(
            current.user.id, body.credential, body.name, state.client(request)
        )
        return passkey_out(row)

    @api.post("/login/begin", summary="WebAuthn request options (no email needed)")
    async def login_begin(state: State, request: Request) -> dict[str, Any]:
        await state.accounts.limit_ip("passkey_login", state.client(request))
        return await state.passkeys.login_begin()

    @api.post("/login/finish", summary="Sign in with a passkey: the token pair")
    async def login_finish(
        state: State, body: PasskeyLoginIn, request: Request, response: Response
    ) -> TokenPair:
        issued, email = await state.passkeys.login_finish(body.credential, state.client(request))
        if cookies.wanted(request):  # a browser signed in: remember it, as after a password
            state.accounts.devices.remember(request, response, email)
        return cookies.token_pair(issued, request, response, state.settings)

    @api.get("", summary="This account's passkeys")
    async def list_passkeys(
        state: State,
        current: Annotated[CurrentUser, Depends(session_user)],
    ) -> list[PasskeyOut]:
        return [passkey_out(row) for row in await state.passkeys.list(current.user.id)]

    @api.patch("/{passkey_id}", summary="Rename a passkey")
    async def rename(
        state: State,
        passkey_id: str,
        body: PasskeyRenameIn,
        current: Annotated[CurrentUser, Depends(session_user)],
    ) -> PasskeyOut:
        row = await state.passkeys.rename(current.user.id, passkey_id, body.name)
        return passkey_out(row)

    @api.delete("/{passkey_id}", status_code=204, summary="Remove a passkey")
    async def remove(
        state: State,
        passkey_id: str,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> Response:
        await state.passkeys.remove(current.user.id, passkey_id, state.client(request))
        return Response(status_code=204)

    return api
