"""What the SDK raises: the server's refusal as a typed error, never a bare timeout.

Every Netra service answers an error as `{"detail": {"reason", "message"}}`
(docs/protocol.md, "Errors"); the class is chosen by `reason`, else by the status."""

from __future__ import annotations

from typing import Any

import httpx


class NetraError(Exception):
    """A request the server refused: its HTTP `status`, the stable `reason` a program
    switches on, and the `message` for people."""

    def __init__(
        self, status: int, reason: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


class InvalidRequest(NetraError):
    """The request cannot be done as sent (400, 413, 422): change it."""


class Unauthorized(NetraError):
    """No usable credential (401): sign in again."""


class Forbidden(NetraError):
    """This account may not do this (403)."""


class NotFound(NetraError):
    """No such thing, or not yours (404)."""


class Conflict(NetraError):
    """The thing's state does not allow it (409), e.g. cancelling a finished run."""


class RateLimited(NetraError):
    """Too many requests (429): wait `retry_after` seconds."""


class Unavailable(NetraError):
    """Not now (502, 503): starting, restarting or overloaded; retry shortly."""


BY_REASON: dict[str, type[NetraError]] = {
    "rate_limited": RateLimited,
    "not_found": NotFound,
    "conflict": Conflict,
    "run_finished": Conflict,
    "forbidden": Forbidden,
    "invalid_request": InvalidRequest,
    "bad_request": InvalidRequest,
    "too_long": InvalidRequest,
    "bad_seq": InvalidRequest,
    "bad_cursor": InvalidRequest,
    "restarting": Unavailable,
    "unavailable": Unavailable,
    "upstream_failed": Unavailable,
}
BY_STATUS: dict[int, type[NetraError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: InvalidRequest,
    422: InvalidRequest,
    429: RateLimited,
    502: Unavailable,
    503: Unavailable,
}


def from_response(response: httpx.Response) -> NetraError:
    """The typed error for a refused request (any body: a proxy may answer in HTML)."""
    reason, message = "error", response.text[:500] or response.reason_phrase
    try:
        detail: Any = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict):
        reason = str(detail.get("reason", reason))
        message = str(detail.get("message", message))
    elif isinstance(detail, str):
        message = detail
    kind = BY_REASON.get(reason) or BY_STATUS.get(response.status_code, NetraError)
    retry = response.headers.get("retry-after", "")
    retry_after = float(retry) if retry.isascii() and retry.isdigit() else None
    return kind(response.status_code, reason, message, retry_after)


class StreamClosed(Exception):
    """The server closed the event stream for a reason reconnecting cannot fix."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"stream closed {code}: {reason}")
        self.code = code
        self.reason = reason
