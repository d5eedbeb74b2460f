"""`/auth/password/forgot` and `/auth/password/reset`: a forgotten password."""

from fastapi import APIRouter, BackgroundTasks, Request

from netra.auth.payloads import Accepted, ForgotIn, ResetIn, Revoked
from netra.auth.routes.deps import State

FORGOT_ANSWER = (
    "If this address has an account, a link to choose a new password is on its way; "
    "it works once, for 30 minutes."
)


def router() -> APIRouter:
    api = APIRouter(prefix="/auth/password", tags=["password reset"])

    @api.post(
        "/forgot",
        status_code=202,
        summary="Mail a reset link; the same answer whether or not the address has an account",
    )
    async def forgot(
        state: State, body: ForgotIn, request: Request, background: BackgroundTasks
    ) -> Accepted:
        client = state.client(request)
        await state.accounts.limit_ip("forgot", client)
        # After the answer: nothing about the address changes what or when we answer.
        background.add_task(state.resets.forgot, body.email, client)
        return Accepted(message=FORGOT_ANSWER)

    @api.post("/reset", summary="Use a reset link: a new password; every session ends")
    async def reset(state: State, body: ResetIn, request: Request) -> Revoked:
        count = await state.resets.reset(body.token, body.new_password, state.client(request))
        return Revoked(revoked=count)

    return api
