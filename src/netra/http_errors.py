"""The HTTP answer to every domain error: one table, one handler (installed by
`netra.service.build_app`). A new rule adds one row here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from netra.chat import errors as chat
from netra.errors import DomainError
from netra.tokens import TokenRejected

log = logging.getLogger("netra.errors")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    # WWW-Authenticate: the credential was the problem, a fresh one may do (RFC 9110).
    challenge: bool = False


ANSWERS: dict[type[DomainError], HttpAnswer] = {
    TokenRejected: HttpAnswer(401, challenge=True),
    chat.Unavailable: HttpAnswer(503),
    chat.ServiceTokenRefused: HttpAnswer(403),
    chat.Draining: HttpAnswer(503),
    chat.TooLong: HttpAnswer(413),
    chat.RateLimited: HttpAnswer(429),
    chat.NoSuchThread: HttpAnswer(404),
    chat.NoSuchRun: HttpAnswer(404),
    chat.RunFinished: HttpAnswer(409),
    chat.BadSeq: HttpAnswer(400),
    chat.BadCursor: HttpAnswer(400),
    chat.ModelNotAllowed: HttpAnswer(403),
    chat.RunActive: HttpAnswer(409),
    chat.EmptyQuery: HttpAnswer(422),
    chat.QueryTooLong: HttpAnswer(422),
}


def answer_for(exc: DomainError) -> HttpAnswer | None:
    """The row of the exception's class, or of its nearest ancestor that has one."""
    for cls in type(exc).__mro__:
        row = ANSWERS.get(cls)
        if row is not None:
            return row
    return None


def headers_for(exc: DomainError, row: HttpAnswer) -> dict[str, str]:
    headers = {}
    if row.challenge:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return headers


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # registered for DomainError only
    row = answer_for(exc)
    if row is None:  # tests/test_errors.py keeps this from happening
        log.error("no HTTP answer for %s: %s", type(exc).__name__, exc.message)
        return JSONResponse({"detail": "internal error"}, status_code=500)
    return JSONResponse(
        {"detail": exc.message}, status_code=row.status, headers=headers_for(exc, row)
    )


def install(app: FastAPI) -> None:
    """Answer every DomainError the app's routes raise from the table above."""
    app.add_exception_handler(DomainError, domain_error)
