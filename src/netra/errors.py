"""The one error model: a domain refuses a request with a `DomainError`, a stable
`reason` (the machine word a client switches on) and a `message` for people.

Domain modules raise these and never see a transport; each transport has one table
turning a class into its answer (netra.http_errors for HTTP, netra.chat.ws.errors for
the chat socket)."""

from __future__ import annotations


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
