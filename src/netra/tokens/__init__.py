"""Access-token verification every service imports; the only place a token is verified.

See docs/auth.md: `TokenVerifier` is the one implementation of `Verifier`; a backend
builds it with `verifier_for(settings, http)` or, with its service token and revocation
poller, `AuthServiceTokens(settings)`; the auth component hands its own keys in-process.
"""

from netra.tokens.api_key_resolver import API_KEY_PREFIX, ApiKeyResolver, HttpApiKeyResolver
from netra.tokens.backend import (
    AuthServiceTokens,
    TokenConfigMismatch,
    key_source_for,
    verifier_for,
)
from netra.tokens.keys import (
    InProcessKeys,
    JwksKeys,
    KeySource,
    SharedSecretKeys,
    VerificationKey,
    secret_kid,
)
from netra.tokens.principal import (
    Principal,
    RejectReason,
    TokenCheckUnavailable,
    TokenKind,
    TokenRejected,
    Verifier,
)
from netra.tokens.revocations import RevocationList, RevocationPoller
from netra.tokens.service_tokens import ServiceTokenClient, ServiceTokenError
from netra.tokens.verifier import TokenVerifier, require_user

__all__ = [
    "API_KEY_PREFIX",
    "ApiKeyResolver",
    "AuthServiceTokens",
    "HttpApiKeyResolver",
    "InProcessKeys",
    "JwksKeys",
    "KeySource",
    "Principal",
    "RejectReason",
    "RevocationList",
    "RevocationPoller",
    "ServiceTokenClient",
    "ServiceTokenError",
    "SharedSecretKeys",
    "TokenCheckUnavailable",
    "TokenConfigMismatch",
    "TokenKind",
    "TokenRejected",
    "TokenVerifier",
    "VerificationKey",
    "Verifier",
    "key_source_for",
    "require_user",
    "secret_kid",
    "verifier_for",
]
