"""The one token verifier: JWT access and service tokens, and API keys, to a `Principal`.

Algorithms are pinned by configuration, never taken from the token; the key is chosen by
`kid` from a `KeySource`; `iss`, `aud`, `exp`, `nbf`, `iat` and `typ` are checked; verified
tokens are cached until they expire, and every answer (cached or not) consults the
revocation list.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from netra.tokens.api_key_resolver import ApiKeyResolver, is_api_key, split_api_key
from netra.tokens.cache import VerifiedCache
from netra.tokens.keys import KID_PATTERN, KeySource
from netra.tokens.principal import (
    Principal,
    RejectReason,
    TokenKind,
    TokenRejected,
    shared_set,
)
from netra.tokens.revocations import RevocationList

MAX_TOKEN_LENGTH = 8192
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "typ", "jti"]
TOKEN_TYPES: dict[str, TokenKind] = {"access": "access", "service": "service"}

_ERRORS: list[tuple[type[Exception], RejectReason, str]] = [
    (jwt_errors.ExpiredSignatureError, "expired", "the token has expired"),
    (jwt_errors.ImmatureSignatureError, "not_yet_valid", "the token is not valid yet"),
    (jwt_errors.InvalidAudienceError, "wrong_audience", "the token is for another audience"),
    (jwt_errors.InvalidIssuerError, "wrong_issuer", "the token was issued by someone else"),
    (jwt_errors.InvalidSignatureError, "invalid_signature", "the token's signature is invalid"),
    (jwt_errors.InvalidAlgorithmError, "wrong_algorithm", "the token's algorithm is not allowed"),
]


def _rejection(exc: jwt_errors.InvalidTokenError) -> TokenRejected:
    if isinstance(exc, jwt_errors.MissingRequiredClaimError):
        if exc.claim == "aud":
            return TokenRejected("wrong_audience", "the token names no audience")
        if exc.claim == "iss":
            return TokenRejected("wrong_issuer", "the token names no issuer")
        return TokenRejected("malformed", f"the token lacks the '{exc.claim}' claim")
    for kind, reason, message in _ERRORS:
        if isinstance(exc, kind):
            return TokenRejected(reason, message)
    return TokenRejected("malformed", "the token cannot be decoded")


def _header(token: str) -> dict[str, Any]:
    """The header alone (PyJWT parses the whole token again, strictly, when verifying;
    parsing it twice here would double the cost of every uncached verification)."""
    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        raise TokenRejected("malformed", "the token's header cannot be decoded") from None
    if not isinstance(header, dict):
        raise TokenRejected("malformed", "the token's header is not a JSON object")
    return header


def require_user(principal: Principal) -> Principal:
    """Refuse service credentials where a person must be behind the request."""
    if principal.is_service:
        raise TokenRejected("wrong_type", "a user's token is required, not a service token")
    return principal


class TokenVerifier:
    """Implements `netra.tokens.Verifier`; see docs/auth.md for how each service builds one."""

    def __init__(
        self,
        keys: KeySource,
        *,
        algorithms: frozenset[str],
        issuer: str,
        audience: str,
        revocations: RevocationList | None = None,
        api_keys: ApiKeyResolver | None = None,
        leeway: float = 30.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.algorithms = algorithms
        self.issuer = issuer
        self.audience = audience
        # `is None`, not `or`: an empty list is falsy, and replacing it would cut the verifier
        # off from every revocation recorded later.
        self.revocations = revocations if revocations is not None else RevocationList()
        self.api_keys = api_keys
        self.leeway = leeway
        self.cache = VerifiedCache(cache_size, clock)
        self._clock = clock

    async def verify(self, token: str) -> Principal:
        """The principal of a bearer credential, or `TokenRejected` saying why not."""
        if not token:
            raise TokenRejected("missing", "no credential was given")
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenRejected("malformed", "the credential is too long")
        cached = self.cache.get(token)
        if cached is not None:
            self._check_revoked(cached)
            return cached
        if is_api_key(token):
            principal = await self._api_key(token)
        else:
            principal = await self._jwt(token)
        self._check_revoked(principal)
        return principal

    def _check_revoked(self, principal: Principal) -> None:
        ident = principal.token_id if principal.kind == "api_key" else principal.session_id
        if self.revocations.is_revoked(ident):
            raise TokenRejected("revoked", "this session or key has been revoked")

    async def _api_key(self, token: str) -> Principal:
        if self.api_keys is None:
            raise TokenRejected("malformed", "API keys are not accepted here")
        if split_api_key(token) is None:  # refused here, without asking anyone
            raise TokenRejected("malformed", "this is not a well-formed Netra API key")
        return await self.api_keys.resolve(token)

    async def _jwt(self, token: str) -> Principal:
        if token.count(".") != 2:
            raise TokenRejected("malformed", "a token has three dot-separated parts")
        header = _header(token)
        algorithm = header.get("alg")
        # A list or object is unhashable: test the type before the set (a 500 otherwise).
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise TokenRejected("wrong_algorithm", "the token's algorithm is not allowed")
        if "crit" in header:
            raise TokenRejected("malformed", "the token has critical headers we do not support")
        kid = header.get("kid")
        if not isinstance(kid, str) or not KID_PATTERN.match(kid):
            raise TokenRejected("unknown_key", "the token names no key we could know")
        key = await self.keys.get(kid)
        if key is None:
            raise TokenRejected("unknown_key", "the token was signed by a key we do not know")
        if key.algorithm != algorithm:
            raise TokenRejected("wrong_algorithm", "the token's algorithm does not fit its key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt_errors.InvalidTokenError as exc:
            raise _rejection(exc) from None
        principal = self._principal(claims)
        self.cache.put(token, principal, float(claims["exp"]))
        return principal

    def _principal(self, claims: dict[str, Any]) -> Principal:
        # Expiry is strict (no leeway): a token is dead at `exp`, refreshing costs little.
        exp = claims["exp"]
        if exp <= self._clock():
            raise TokenRejected("expired", "the token has expired")
        kind = TOKEN_TYPES.get(claims["typ"]) if isinstance(claims["typ"], str) else None
        if kind is None:
            raise TokenRejected("wrong_type", "this is not an access or service token")
        sid = claims.get("sid")
        if kind == "access" and not isinstance(sid, str):
            raise TokenRejected("malformed", "an access token must name its session")
        roles, scope, email = claims.get("roles", []), claims.get("scope", ""), claims.get("email")
        if not isinstance(roles, list) or not isinstance(scope, str):
            raise TokenRejected("malformed", "the token's roles or scope are not well formed")
        return Principal(
            subject=str(claims["sub"]),
            kind=kind,
            roles=shared_set(str(role) for role in roles),
            scopes=shared_set(scope.split()),
            session_id=sid if isinstance(sid, str) else None,
            email=email if isinstance(email, str) else None,
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(exp, UTC),
        )
