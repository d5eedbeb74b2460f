"""Personal API keys as bearer credentials: recognised by their prefix and resolved by
the auth service (the only holder of their hashes).

In another process the resolver asks `POST /auth/api-keys/introspect` with its service
token and caches the answer for `ttl` seconds; a revoked key also arrives through the
revocation list, which the verifier checks on every cached hit. The auth service answers
a refused key with `active: false` (RFC 7662) and keeps 401 for a refused caller, whose
token is then fetched anew. Refusals are cached too
(a script retrying a revoked key costs the auth service one call per `ttl`), and at most
`MAX_IN_FLIGHT` introspections run at once, so a flood of made-up keys cannot turn into
a flood of calls to the auth service.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from netra.tokens.principal import (
    Principal,
    TokenCheckUnavailable,
    TokenRejected,
    shared_set,
)
from netra.tokens.service_tokens import ServiceTokenClient, ServiceTokenError

API_KEY_PREFIX = "nk_"
MAX_IN_FLIGHT = 8


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def split_api_key(token: str) -> tuple[str, str] | None:
    """`nk_<key id>_<secret>` → (key id, secret); None when it is not shaped so."""
    _, _, rest = token.partition(API_KEY_PREFIX)
    key_id, sep, secret = rest.partition("_")
    if not sep or len(key_id) != 16 or not secret or len(secret) > 128:
        return None
    if not all(c in "0123456789abcdef" for c in key_id):
        return None
    return key_id, secret


class ApiKeyResolver(Protocol):
    """Turns an API key into the principal of its owner, or raises `TokenRejected`."""

    async def resolve(self, api_key: str) -> Principal: ...


def principal_from_introspection(body: dict[str, Any]) -> Principal:
    expires = body.get("expires_at")
    return Principal(
        subject=str(body["sub"]),
        kind="api_key",
        roles=shared_set(body.get("roles", [])),
        scopes=shared_set(body.get("scopes", [])),
        email=body.get("email"),
        token_id=str(body["key_id"]),
        expires_at=datetime.fromisoformat(expires).astimezone(UTC) if expires else None,
    )


class HttpApiKeyResolver:
    """Asks the auth service, with this service's token; caches answers briefly."""

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        service_tokens: ServiceTokenClient,
        ttl: float = 30.0,
        max_entries: int = 10_000,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self._http = http
        self._service_tokens = service_tokens
        self._max = max_entries
        self._cache: dict[str, tuple[Principal | TokenRejected, float]] = {}
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)

    def _cached(self, digest: str) -> Principal | None:
        cached = self._cache.get(digest)
        if cached is None or cached[1] <= time.monotonic():
            return None
        if isinstance(cached[0], TokenRejected):
            raise TokenRejected(cached[0].reason, cached[0].message)
        return cached[0]

    def _remember(self, digest: str, answer: Principal | TokenRejected) -> None:
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[digest] = (answer, time.monotonic() + self.ttl)

    async def resolve(self, api_key: str) -> Principal:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        if (principal := self._cached(digest)) is not None:
            return principal
        async with self._in_flight:
            # Another request may have asked for the same key while this one waited.
            if (principal := self._cached(digest)) is not None:
                return principal
            answer = await self._introspect(api_key)
            self._remember(digest, answer)
            if isinstance(answer, TokenRejected):
                raise answer
            return answer

    async def _introspect(self, api_key: str) -> Principal | TokenRejected:
        """The key's owner, or its refusal (worth remembering); raises
        `TokenCheckUnavailable` (not remembered) when the key could not be checked."""
        try:
            headers = await self._service_tokens.headers()
        except ServiceTokenError as exc:
            raise TokenCheckUnavailable(f"API keys cannot be checked now: {exc}") from None
        try:
            response = await self._http.post(
                self.url, json={"api_key": api_key}, headers=headers, timeout=5.0
            )
        except httpx.HTTPError as exc:
            raise TokenCheckUnavailable(
                f"the auth service cannot be reached to check the API key: {exc}"
            ) from None
        if response.status_code == 401:  # our service token, not the key: fetch a new one
            self._service_tokens.forget()
            raise TokenCheckUnavailable(
                "API keys cannot be checked now: the auth service refused our token"
            )
        if response.status_code != 200:
            raise TokenCheckUnavailable(
                f"the auth service answered {response.status_code} for an API key"
            )
        body = response.json()
        if not body.get("active"):
            return TokenRejected("revoked", str(body.get("message", "the API key is not valid")))
        return principal_from_introspection(body)
