"""Personal API keys as bearer credentials: recognised by their prefix and resolved by
the auth service (the only holder of their hashes).

In another process the resolver asks `POST /auth/api-keys/introspect` with its service
token and caches the answer for `ttl` seconds; a revoked key also arrives through the
revocation list, which the verifier checks on every cached hit.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from netra.tokens.principal import Principal, TokenRejected
from netra.tokens.service_tokens import ServiceTokenError

API_KEY_PREFIX = "nk_"


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
        roles=frozenset(body.get("roles", [])),
        scopes=frozenset(body.get("scopes", [])),
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
        service_token: Callable[[], Awaitable[str]],
        ttl: float = 30.0,
        max_entries: int = 10_000,
    ) -> None:
        self.url = url
        self.ttl = ttl
        self._http = http
        self._service_token = service_token
        self._max = max_entries
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def resolve(self, api_key: str) -> Principal:
        digest = hashlib.sha256(api_key.encode()).hexdigest()
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        try:
            headers = {"Authorization": f"Bearer {await self._service_token()}"}
        except ServiceTokenError as exc:
            raise TokenRejected("unavailable", f"API keys cannot be checked now: {exc}") from None
        try:
            response = await self._http.post(
                self.url, json={"api_key": api_key}, headers=headers, timeout=5.0
            )
        except httpx.HTTPError as exc:
            raise TokenRejected(
                "unavailable", f"the auth service cannot be reached to check the API key: {exc}"
            ) from None
        if response.status_code == 401:
            raise TokenRejected("revoked", "the API key is not valid (unknown, revoked or expired)")
        if response.status_code != 200:
            raise TokenRejected(
                "unavailable", f"the auth service answered {response.status_code} for an API key"
            )
        principal = principal_from_introspection(response.json())
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[digest] = (principal, time.monotonic() + self.ttl)
        return principal
