"""Who an MCP request acts for: the `Principal` the endpoint verified, carried on the
request the SDK hands each tool, as the SDK's own `AuthenticatedUser`."""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from netra.errors import Unauthorized
from netra.tokens import Principal
from netra.tokens.scopes import Scope, granted, require_scope


class NetraUser(AuthenticatedUser):
    """The SDK's authenticated user (its transport keys sessions by it), holding the
    verified principal the tools act for."""

    def __init__(self, principal: Principal, token: str) -> None:
        expires = principal.expires_at
        super().__init__(
            AccessToken(
                token=token,
                client_id=principal.token_id or principal.subject,
                scopes=sorted(granted(principal)),
                expires_at=int(expires.timestamp()) if expires is not None else None,
                subject=principal.subject,
            )
        )
        self.principal = principal


def principal_of(ctx: Context[Any, Any], scope: Scope) -> Principal:
    """The caller of this tool call, holding `scope` (InsufficientScope otherwise)."""
    request = ctx.request_context.request
    user = getattr(request, "scope", {}).get("user")
    if not isinstance(user, NetraUser):  # only reachable past the endpoint's check
        raise Unauthorized("this MCP request carries no verified credential")
    return require_scope(user.principal, scope)
