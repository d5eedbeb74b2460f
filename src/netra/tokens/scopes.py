"""What a credential may do: the scope table (docs/auth.md) and the one check.

| scope       | allows                                                        |
|-------------|---------------------------------------------------------------|
| `chat`      | read and write chat (implies `chat:read`)                     |
| `chat:read` | GET endpoints of the chat API, WebSocket `subscribe`, SSE     |
| `profile`   | `GET /auth/me`                                                |

An access token from a sign-in carries every scope of its user; an API key only those
it was made with. Each route and WebSocket message declares the scope it needs once
(netra.chat.routes.deps, netra.chat.ws.protocol.MESSAGE_SCOPES, netra.auth.routes).
"""

from __future__ import annotations

from typing import Literal

from netra.errors import DomainError
from netra.tokens.principal import Principal

Scope = Literal["chat", "chat:read", "profile"]
CHAT: Scope = "chat"
CHAT_READ: Scope = "chat:read"
PROFILE: Scope = "profile"
ALL_SCOPES: frozenset[str] = frozenset({CHAT, CHAT_READ, PROFILE})
IMPLIED: dict[str, frozenset[str]] = {CHAT: frozenset({CHAT_READ})}


class InsufficientScope(DomainError):
    """The credential is valid but lacks the scope this request needs (RFC 6750 3.1)."""

    reason = "insufficient_scope"

    def __init__(self, needed: str, held: frozenset[str]) -> None:
        having = ", ".join(sorted(held)) or "none"
        super().__init__(f"this credential lacks the `{needed}` scope (it has: {having})")
        self.scope = needed

    @property
    def challenge(self) -> str:
        return f'Bearer error="insufficient_scope", scope="{self.scope}"'


def granted(principal: Principal) -> frozenset[str]:
    """Every scope `principal` holds, implied ones included."""
    if principal.kind == "access":
        return ALL_SCOPES
    if principal.kind != "api_key":
        return frozenset()
    held = set(principal.scopes & ALL_SCOPES)
    for scope in list(held):
        held |= IMPLIED.get(scope, frozenset())
    return frozenset(held)


def require_scope(principal: Principal, scope: Scope) -> Principal:
    """`principal`, if it holds `scope`; `InsufficientScope` otherwise."""
    held = granted(principal)
    if scope not in held:
        raise InsufficientScope(scope, held)
    return principal
