"""What a verified credential says about its bearer, and why one was refused."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from netra.errors import DomainError

TokenKind = Literal["access", "service", "api_key"]
RejectReason = Literal[
    "missing",
    "malformed",
    "expired",
    "not_yet_valid",
    "invalid_signature",
    "unknown_key",
    "wrong_algorithm",
    "wrong_issuer",
    "wrong_audience",
    "wrong_type",
    "revoked",
    "unavailable",
]


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified bearer of a request: a user (access token, API key) or a service.
    One is held per verified credential (the verifier's cache) and per open stream: it
    has slots, and its roles and scopes are shared sets (`shared_set`)."""

    subject: str
    kind: TokenKind
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    session_id: str | None = None
    email: str | None = None
    token_id: str | None = None
    expires_at: datetime | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


_SHARED_SETS: dict[frozenset[str], frozenset[str]] = {}
_MAX_SHARED_SETS = 1024


def shared_set(items: Iterable[str]) -> frozenset[str]:
    """`frozenset(items)`, the same object for the same members: principals of one role
    share one set instead of ~200 bytes each (there are few distinct role and scope sets;
    past `_MAX_SHARED_SETS` new ones are simply not shared)."""
    value = frozenset(items)
    shared = _SHARED_SETS.get(value)
    if shared is not None:
        return shared
    if len(_SHARED_SETS) < _MAX_SHARED_SETS:
        _SHARED_SETS[value] = value
    return value


class TokenRejected(DomainError):
    """A credential was refused; `reason` is machine-readable, the message is for people."""

    reason: RejectReason

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message, reason=reason)


class TokenCheckUnavailable(TokenRejected):
    """The credential could not be checked now (the auth service is unreachable): not
    its bearer's fault, so not remembered; retry shortly."""

    def __init__(self, message: str) -> None:
        super().__init__("unavailable", message)
        self.retry_after = 1.0


class Verifier(Protocol):
    """The one way any service checks a bearer credential."""

    async def verify(self, token: str) -> Principal: ...
