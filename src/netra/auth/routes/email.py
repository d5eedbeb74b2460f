"""`/auth/verify-email(/request)` and `/auth/email`: proving an address, changing it."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from netra.auth.payloads import Accepted, EmailChangeIn, EmailVerifiedOut, TokenIn
from netra.auth.routes.deps import CurrentUser, State, session_user


def router() -> APIRouter:
    api = APIRouter(prefix="/auth", tags=["email"])

    @api.post("/verify-email/request", status_code=202, summary="Mail a new verification link")
    async def request_verification(
        state: State, current: Annotated[CurrentUser, Depends(session_user)], request: Request
    ) -> Accepted:
        await state.verification.request(current.user.id, state.client(request))
        return Accepted(message=f"a link is on its way to {current.user.email}")

    @api.post("/verify-email", summary="Use a verification link (also completes an email change)")
    async def verify(state: State, body: TokenIn, request: Request) -> EmailVerifiedOut:
        user = await state.verification.verify(body.token, state.client(request))
        return EmailVerifiedOut(email=user.email, email_verified=True)

    @api.post(
        "/email",
        status_code=202,
        summary="Change the email address (takes effect when the link mailed to it is used)",
    )
    async def change_email(
        state: State,
        body: EmailChangeIn,
        current: Annotated[CurrentUser, Depends(session_user)],
        request: Request,
    ) -> Accepted:
        await state.verification.change(
            current.user.id,
            body.new_email,
            body.password,
            state.client(request),
            state.accounts.devices.cookie(request),
        )
        return Accepted(
            message="a link is on its way to the new address; the change takes effect when "
            "it is used"
        )

    return api
