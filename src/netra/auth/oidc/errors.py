"""What goes wrong in an OIDC sign-in, as a reason and a message a person can act on."""

from __future__ import annotations


class OidcError(Exception):
    """A refused or failed sign-in: the HTTP status, a reason code and a message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
