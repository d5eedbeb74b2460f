"""The one error model: a domain refuses a request with a `DomainError`, a stable
`reason` (the machine word a client switches on) and a `message` for people.

Domain modules raise these and never see a transport; each transport has one table
turning a class into its answer: netra.http_errors for HTTP (`{"detail": {"reason",
"message"}}`, docs/protocol.md), netra.chat.ws.errors for the chat socket. The
classes below are the kinds of refusal any domain shares; a domain with rules of its
own (netra.chat.errors) adds classes, and rows, for them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeVar


class DomainError(Exception):
    """A request the domain refuses. `retry_after` (seconds) when waiting helps."""

    reason: str = "error"
    retry_after: float | None = None

    def __init__(
        self, message: str, *, reason: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if retry_after is not None:
            self.retry_after = retry_after


class BadRequest(DomainError):
    """The request cannot be done as sent (a stale cursor, a used sign-in answer)."""

    reason = "bad_request"


class InvalidRequest(DomainError):
    """A field's value breaks a rule (an email address, a password policy)."""

    reason = "invalid_request"


class Unauthorized(DomainError):
    """No credential, or one that does not (or no longer) identify anybody."""

    reason = "unauthorized"


class Forbidden(DomainError):
    """Who is asking is known, and may not do this."""

    reason = "forbidden"


class NotFound(DomainError):
    """No such thing, or not the asker's (the same answer for both)."""

    reason = "not_found"


class Conflict(DomainError):
    """The thing's state does not allow it (disabling yourself, an email taken)."""

    reason = "conflict"


class TooManyAttempts(DomainError):
    """A rate limit: `retry_after` says when to try again."""

    reason = "rate_limited"


class UpstreamFailed(DomainError):
    """Another service this one relies on answered badly (an OIDC provider)."""

    reason = "upstream_failed"


class Unavailable(DomainError):
    """Not now: starting, or something it relies on is down; retry shortly."""

    reason = "unavailable"


class Overloaded(Unavailable):
    """Every database connection of this process stayed busy past the pool's timeout.
    What the request wrote before is kept (a repeated `client_msg_id` returns it)."""

    reason = "overloaded"

    def __init__(self) -> None:
        super().__init__(
            "the server is too busy to answer now; send it again shortly "
            "(the same client_msg_id never stores a message twice)",
            retry_after=1.0,
        )


Row = TypeVar("Row")


def row_for(table: Mapping[type[DomainError], Row], exc: DomainError) -> Row | None:
    """A transport table's row for `exc`: its class's, or its nearest ancestor's."""
    for cls in type(exc).__mro__:
        row = table.get(cls)
        if row is not None:
            return row
    return None


def whole_seconds(seconds: float) -> int:
    """A wait in whole seconds, rounded up and at least 1 (for Retry-After and messages):
    a client retrying after it never comes back too early."""
    return max(1, math.ceil(seconds))
