"""Where verification keys come from: the auth service's JWKS over HTTP, the auth
component's own keys handed over in-process, or the shared HS256 secret.

Every source answers `get(kid)` with a `VerificationKey` or None; the verifier's code path
is the same whichever source it holds.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger("netra.tokens")

# A kid we will look up: short and plain. Anything else (paths, quotes, 10 KB) is refused
# before it reaches a cache or a fetch.
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class VerificationKey:
    """One key a token may be checked against, and the one algorithm it is for."""

    kid: str
    algorithm: str
    key: Any


class KeySource(Protocol):
    """Answers which key a `kid` names; None when it names none we know."""

    async def get(self, kid: str) -> VerificationKey | None: ...

    def loaded(self) -> int:
        """How many keys are currently known (readiness reports it)."""
        ...


def secret_kid(secret: str) -> str:
    """A stable, non-reversible name for a shared secret: both services compute the same
    one, and a mismatch can be reported without showing either secret."""
    digest = hmac.new(secret.encode(), b"netra-hs256-kid", hashlib.sha256).digest()
    return "hs-" + base64.urlsafe_b64encode(digest[:9]).decode().rstrip("=")


class SharedSecretKeys:
    """HS256 compatibility mode: one secret, resolved by the settings chain."""

    def __init__(self, secret: str) -> None:
        self.kid = secret_kid(secret)
        self._key = VerificationKey(self.kid, "HS256", secret.encode())

    async def get(self, kid: str) -> VerificationKey | None:
        return self._key if kid == self.kid else None

    def loaded(self) -> int:
        return 1


def parse_jwks(
    document: Mapping[str, Any], algorithms: frozenset[str]
) -> dict[str, VerificationKey]:
    """The usable keys of a JWKS document; keys of other algorithms or without kid are
    skipped (never guessed)."""
    keys: dict[str, VerificationKey] = {}
    for jwk in document.get("keys", []):
        if not isinstance(jwk, dict):
            continue
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if not isinstance(kid, str) or alg not in algorithms or not KID_PATTERN.match(kid):
            continue
        try:
            keys[kid] = VerificationKey(kid, alg, PyJWK(jwk, alg).key)
        except PyJWKError as exc:
            log.warning("JWKS key %s skipped: %s", kid, exc)
    return keys


class InProcessKeys:
    """Keys handed over by the auth component in the same process (`netra up`): no HTTP
    to ourselves during startup, same verification path."""

    def __init__(self, public_jwks: Callable[[], Mapping[str, Any]], algorithms: frozenset[str]):
        self._public_jwks = public_jwks
        self._algorithms = algorithms
        self._document: Mapping[str, Any] | None = None
        self._parsed: dict[str, VerificationKey] = {}

    def _keys(self) -> dict[str, VerificationKey]:
        # The auth component hands out the same document object until its keys change,
        # so an identity check is all a verification pays here.
        document = self._public_jwks()
        if document is not self._document:
            self._parsed = parse_jwks(document, self._algorithms)
            self._document = document
        return self._parsed

    async def get(self, kid: str) -> VerificationKey | None:
        return self._keys().get(kid)

    def loaded(self) -> int:
        return len(self._keys())


class JwksKeys:
    """The auth service's JWKS fetched over HTTP and cached.

    Refetched when `max_age` has passed, and on an unknown kid at most once per
    `min_refetch_interval` (a flood of random kids costs at most one request per
    interval); concurrent misses share one fetch.
    """

    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        algorithms: frozenset[str],
        *,
        max_age: float = 300.0,
        min_refetch_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._http = http
        self._algorithms = algorithms
        self._max_age = max_age
        self._min_interval = min_refetch_interval
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        self.last_error: str | None = None

    def loaded(self) -> int:
        return len(self._keys)

    async def get(self, kid: str) -> VerificationKey | None:
        key = self._keys.get(kid)
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at > self._max_age
        if key is not None and not stale:
            return key
        await self._refetch()
        return self._keys.get(kid, key)

    async def _refetch(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._min_interval:
                return
            self._attempted_at = now
            try:
                await self.fetch()
            except (httpx.HTTPError, ValueError):
                return  # logged in fetch; the cached keys stay in use meanwhile

    async def fetch(self) -> None:
        """Fetch the JWKS now; raises `httpx.HTTPError` or `ValueError` when it cannot."""
        self.fetches += 1
        try:
            response = await self._http.get(self.url, timeout=5.0)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict):
                raise ValueError("the JWKS is not a JSON object")
        except (httpx.HTTPError, ValueError) as exc:
            self.last_error = f"cannot fetch the JWKS from {self.url}: {exc}"
            log.warning("%s", self.last_error)
            raise
        self._keys = parse_jwks(document, self._algorithms)
        self._fetched_at = self._clock()
        self.last_error = None
