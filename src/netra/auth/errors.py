"""Errors the auth service answers: 4xx JSON `{"detail": {"reason", "message"}}`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from netra.tokens import TokenRejected


class AuthError(HTTPException):
    def __init__(
        self, status: int, reason: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, {"reason": reason, "message": message}, headers)
        self.reason = reason
        self.message = message


def unauthorized(reason: str, message: str) -> AuthError:
    return AuthError(401, reason, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def from_rejection(exc: TokenRejected) -> AuthError:
    if exc.reason == "unavailable":
        return AuthError(503, exc.reason, exc.message)
    return unauthorized(exc.reason, exc.message)


def forbidden(message: str) -> AuthError:
    return AuthError(403, "forbidden", message)


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Validation errors without the submitted values (they may be passwords)."""
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]


class SafeRoute(APIRoute):
    """Answers invalid input with 422 naming the field, never echoing what was sent."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JSONResponse(
                    {
                        "detail": {
                            "reason": "invalid_request",
                            "message": "the request is not valid: "
                            + "; ".join(
                                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                for e in _safe_errors(exc)
                            ),
                            "errors": _safe_errors(exc),
                        }
                    },
                    status_code=422,
                )

        return route
