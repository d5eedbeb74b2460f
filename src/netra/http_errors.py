"""The HTTP answer to every error a request can meet, in one shape for every service:
`{"detail": {"reason", "message"}}` (docs/protocol.md, "Errors"). One table from
domain error to status, one set of handlers installed by `netra.service.build_app`.
A new rule adds one row here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from netra import errors
from netra.chat import errors as chat
from netra.errors import DomainError, row_for, whole_seconds
from netra.tokens import TokenCheckUnavailable, TokenRejected
from netra.tokens.scopes import InsufficientScope
from netra.usage.budgets import QuotaExceeded

log = logging.getLogger("netra.errors")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    # WWW-Authenticate: the credential was the problem, a fresh one may do (RFC 6750);
    # an exception with its own `challenge` (insufficient_scope) names it.
    challenge: bool = False
    # Fields a client acts on, beside reason and message.
    data: Callable[[Any], dict[str, Any]] | None = None


ANSWERS: dict[type[DomainError], HttpAnswer] = {
    errors.BadRequest: HttpAnswer(400),
    errors.Unauthorized: HttpAnswer(401, challenge=True),
    errors.Forbidden: HttpAnswer(403),
    errors.NotFound: HttpAnswer(404),
    errors.Conflict: HttpAnswer(409),
    errors.InvalidRequest: HttpAnswer(422),
    errors.TooManyAttempts: HttpAnswer(429),
    errors.UpstreamFailed: HttpAnswer(502),
    errors.Unavailable: HttpAnswer(503),
    errors.Overloaded: HttpAnswer(503),
    TokenRejected: HttpAnswer(401, challenge=True),
    TokenCheckUnavailable: HttpAnswer(503),
    InsufficientScope: HttpAnswer(403, challenge=True),
    chat.ServiceTokenRefused: HttpAnswer(403),
    chat.Draining: HttpAnswer(503),
    chat.TooLong: HttpAnswer(413),
    chat.RateLimited: HttpAnswer(429),
    chat.NoSuchThread: HttpAnswer(404),
    chat.NoSuchRun: HttpAnswer(404),
    chat.RunFinished: HttpAnswer(409),
    chat.NoSuchApproval: HttpAnswer(404),
    chat.AlreadyResolved: HttpAnswer(409),
    chat.BadSeq: HttpAnswer(400),
    chat.BadCursor: HttpAnswer(400),
    chat.ModelNotAllowed: HttpAnswer(403),
    chat.RunActive: HttpAnswer(409),
    chat.TooManyStreams: HttpAnswer(429),
    chat.EmptyQuery: HttpAnswer(422),
    chat.QueryTooLong: HttpAnswer(422),
    chat.BadImport: HttpAnswer(422),
    chat.NoSuchFile: HttpAnswer(404),
    chat.FileTooLarge: HttpAnswer(413),
    chat.ThreadFilesFull: HttpAnswer(413),
    chat.UserFilesFull: HttpAnswer(413),
    chat.UnsupportedFile: HttpAnswer(422),
    chat.UnreadablePdf: HttpAnswer(422),
    chat.FileNotInThread: HttpAnswer(422),
    chat.TooManyFiles: HttpAnswer(422),
    chat.BadUpload: HttpAnswer(422),
    chat.NoSuchMessage: HttpAnswer(404),
    chat.NotAnAnswer: HttpAnswer(422),
    chat.NoSuchShare: HttpAnswer(404),
    chat.AdminsOnly: HttpAnswer(403),
    chat.NoSuchAssistant: HttpAnswer(404),
    chat.AssistantReadOnly: HttpAnswer(403),
    chat.UnknownTool: HttpAnswer(422),
    QuotaExceeded: HttpAnswer(429, data=QuotaExceeded.detail),
}
INTERNAL = HttpAnswer(500)


def answer_for(exc: DomainError) -> HttpAnswer:
    """The row of the exception's class, or of its nearest ancestor that has one."""
    row = row_for(ANSWERS, exc)
    if row is not None:
        return row
    # tests/test_errors.py keeps this from happening
    log.error("no HTTP answer for %s: %s", type(exc).__name__, exc.message)
    return INTERNAL


def headers_for(exc: DomainError, row: HttpAnswer) -> dict[str, str]:
    headers = {}
    if row.challenge:
        # RFC 6750 3.1: no error code when the request carried no credential at all.
        missing = exc.reason == "missing"
        default = "Bearer" if missing else 'Bearer error="invalid_token"'
        headers["WWW-Authenticate"] = str(getattr(exc, "challenge", default))
    if exc.retry_after is not None:
        headers["Retry-After"] = str(whole_seconds(exc.retry_after))
    return headers


def body(reason: str, message: str, **more: Any) -> dict[str, Any]:
    return {"detail": {"reason": reason, "message": message, **more}}


def render(exc: DomainError) -> JSONResponse:
    """The JSON answer to `exc`: its row's status, its reason and message."""
    row = answer_for(exc)
    if row is INTERNAL:
        return JSONResponse(body("internal", "internal error"), status_code=500)
    more = row.data(exc) if row.data is not None else {}
    return JSONResponse(
        body(exc.reason, exc.message, **more), status_code=row.status, headers=headers_for(exc, row)
    )


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)  # registered for DomainError only
    return render(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, method not allowed) in the same shape; the
    reason is the status's name (`not_found`, `method_not_allowed`)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code < 400 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = "error"
    reason = phrase.lower().replace(" ", "_").replace("-", "_")
    message = str(exc.detail)
    if isinstance(exc.detail, dict):  # already {reason, message} (netra.body_limit)
        reason = str(exc.detail.get("reason", reason))
        message = str(exc.detail.get("message", ""))
    return JSONResponse(body(reason, message), status_code=exc.status_code, headers=exc.headers)


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors without the submitted values (they may be passwords)."""
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]


async def invalid_request(request: Request, exc: Exception) -> Response:
    """422 naming each field and what is wrong with it, never echoing what was sent."""
    assert isinstance(exc, RequestValidationError)
    problems = _safe_errors(exc)
    message = "the request is not valid: " + "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in problems
    )
    return JSONResponse(body("invalid_request", message, errors=problems), status_code=422)


async def pool_exhausted(request: Request, exc: Exception) -> Response:
    """The database pool's timeout (sqlalchemy.exc.TimeoutError): 503 `overloaded`."""
    return render(errors.Overloaded())


def install(app: FastAPI) -> None:
    """Answer every error the app's routes raise in the one shape."""
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(PoolTimeout, pool_exhausted)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
