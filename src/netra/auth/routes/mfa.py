"""`/auth/mfa/...`: enrol TOTP, recovery codes, turn two-factor sign-in off."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from netra.auth.payloads import (
    CodeIn,
    PasswordOnlyIn,
    RecoveryCodesOut,
    TotpDisableIn,
    TotpSetupOut,
)
from netra.auth.routes.deps import CurrentUser, State, session_user


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/mfa", tags=["two-factor"])

    @api.post("/totp/setup", summary="Start TOTP enrolment: the secret and its QR code")
    async def setup(
        state: State,
        body: PasswordOnlyIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        response: Response,
    ) -> TotpSetupOut:
        response.headers["Cache-Control"] = "no-store"
        made = await state.mfa.setup(
            current.user.id,
            body.password,
            state.client(request),
            state.accounts.devices.cookie(request),
        )
        return TotpSetupOut(secret=made.secret, otpauth_uri=made.otpauth_uri, qr_svg=made.qr_svg)

    @api.post("/totp/confirm", summary="Finish enrolment with a code; the recovery codes")
    async def confirm(
        state: State,
        body: CodeIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        response: Response,
    ) -> RecoveryCodesOut:
        response.headers["Cache-Control"] = "no-store"
        codes = await state.mfa.confirm(current.user.id, body.code, state.client(request))
        return RecoveryCodesOut(recovery_codes=codes)

    @api.post("/recovery-codes", summary="New recovery codes (the old ones stop working)")
    async def regenerate(
        state: State,
        body: PasswordOnlyIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
        response: Response,
    ) -> RecoveryCodesOut:
        response.headers["Cache-Control"] = "no-store"
        codes = await state.mfa.regenerate(
            current.user.id,
            body.password,
            state.client(request),
            state.accounts.devices.cookie(request),
        )
        return RecoveryCodesOut(recovery_codes=codes)

    @api.delete("/totp", status_code=204, summary="Turn two-factor sign-in off")
    async def disable(
        state: State,
        body: TotpDisableIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> Response:
        await state.mfa.disable(
            current.user.id,
            body.password,
            body.code,
            state.client(request),
            state.accounts.devices.cookie(request),
        )
        return Response(status_code=204)

    return api
