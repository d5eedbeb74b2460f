"""Access-token verification every service imports; the only place a token is verified."""

from netra.tokens.principal import Principal, RejectReason, TokenKind, TokenRejected, Verifier

__all__ = ["Principal", "RejectReason", "TokenKind", "TokenRejected", "Verifier"]
