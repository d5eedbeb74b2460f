"""How a service other than auth gets its verifier and its service token.

    tokens = AuthServiceTokens(settings)          # once per process, in start()
    await tokens.start()                          # refuses a key/issuer mismatch
    runtime.verifier = tokens.verifier            # the one Verifier
    headers = await tokens.service_tokens.headers()   # calling the auth service
    ...; await tokens.stop()

`verifier_for(settings, http)` builds only the verifier, for callers that need no more.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
from redis.asyncio import Redis

from netra.health import Check, CheckResult
from netra.settings import Settings
from netra.tokens.api_key_resolver import HttpApiKeyResolver
from netra.tokens.keys import JwksKeys, KeySource, SharedSecretKeys, secret_kid
from netra.tokens.principal import TokenRejected
from netra.tokens.revocations import RevocationPoller, listen_for_revocations
from netra.tokens.service_tokens import ServiceTokenClient, ServiceTokenError
from netra.tokens.verifier import TokenVerifier

log = logging.getLogger("netra.tokens")

TOKEN_CONFIG_PATH = "/.well-known/netra-auth.json"
JWKS_PATH = "/.well-known/jwks.json"


class TokenConfigMismatch(Exception):
    """The auth service and this service disagree on how tokens are signed or named."""


def auth_base_url(settings: Settings) -> str:
    if settings.auth_service_url is None:
        raise ValueError("AUTH_SERVICE_URL is not set: the backend cannot find the auth service")
    return str(settings.auth_service_url).rstrip("/")


def shared_secret(settings: Settings) -> str:
    if settings.jwt_secret is None:
        raise ValueError("TOKEN_ALGORITHM=HS256 needs the JWT_SECRET_{ENVIRONMENT} chain set")
    return settings.jwt_secret.get_secret_value()


def key_source_for(settings: Settings, http: httpx.AsyncClient) -> KeySource:
    """The shared secret (HS256) or the auth service's JWKS over HTTP."""
    if settings.token_algorithm == "HS256":
        return SharedSecretKeys(shared_secret(settings))
    return JwksKeys(
        auth_base_url(settings) + JWKS_PATH,
        http,
        frozenset({settings.token_algorithm}),
        min_refetch_interval=settings.jwks_refetch_interval,
    )


def verifier_for(
    settings: Settings,
    http: httpx.AsyncClient,
    service_tokens: ServiceTokenClient | None = None,
) -> TokenVerifier:
    """The verifier of a process that is not the auth service. With `service_tokens` it
    also accepts API keys (resolved by the auth service)."""
    api_keys = None
    if service_tokens is not None:
        api_keys = HttpApiKeyResolver(
            auth_base_url(settings) + "/auth/api-keys/introspect",
            http,
            service_tokens,
            ttl=settings.api_key_cache_ttl,
        )
    return TokenVerifier(
        key_source_for(settings, http),
        algorithms=frozenset({settings.token_algorithm}),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        api_keys=api_keys,
        leeway=settings.token_leeway,
    )


def mismatches(settings: Settings, theirs: dict[str, Any], url: str) -> list[str]:
    """Every way the auth service's published token configuration differs from ours."""
    problems = []
    pairs = [
        ("TOKEN_ALGORITHM", theirs.get("algorithm"), settings.token_algorithm),
        ("JWT_ISSUER", theirs.get("issuer"), settings.jwt_issuer),
        ("JWT_AUDIENCE", theirs.get("audience"), settings.jwt_audience),
    ]
    for name, auth_value, ours in pairs:
        if auth_value != ours:
            problems.append(
                f"{name}: the auth service at {url} uses {auth_value!r}, this service {ours!r}"
            )
    # The fingerprint is in the answer to a service only (see AuthServiceTokens.agreement).
    if (
        settings.token_algorithm == "HS256"
        and theirs.get("algorithm") == "HS256"
        and "secret_fingerprint" in theirs
    ):
        ours_kid = secret_kid(shared_secret(settings))
        if theirs.get("secret_fingerprint") != ours_kid:
            problems.append(
                "JWT_SECRET_{ENVIRONMENT} (JWT_SECRET_KEY, JWT_SECRET): the auth service's HS256 "
                f"secret has fingerprint {theirs.get('secret_fingerprint')}, this service's "
                f"{ours_kid}; set the same secret under one name of the chain on both"
            )
    return problems


class AuthServiceTokens:
    """The verifier, service-token client and revocation poller of a backend process."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.base_url = auth_base_url(settings)
        self._own_http = http is None
        self.http = http or httpx.AsyncClient()
        secret = settings.service_secret.get_secret_value() if settings.service_secret else ""
        self.service_tokens = ServiceTokenClient(
            self.base_url + "/auth/service-token", settings.service_id, secret, self.http
        )
        self.verifier = verifier_for(settings, self.http, self.service_tokens)
        self.poller = RevocationPoller(
            self.verifier.revocations,
            self.base_url + "/auth/revocations",
            self.http,
            self.service_tokens.token,
            interval=settings.revocation_poll_interval,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self.redis = (
            Redis.from_url(settings.redis_url.get_secret_value()) if settings.redis_url else None
        )

    async def agreement(self) -> None:
        """Compare with the auth service, then verify a real service token from it.
        Raises `TokenConfigMismatch` (cannot heal), `httpx.HTTPError` or
        `ServiceTokenError` (can: the auth service is not up or not ready)."""
        response = await self.http.get(self.base_url + TOKEN_CONFIG_PATH, timeout=5.0)
        response.raise_for_status()
        problems = mismatches(self.settings, response.json(), self.base_url)
        if problems:
            raise TokenConfigMismatch("; ".join(problems))
        try:
            token = await self.service_tokens.token()
        except ServiceTokenError as exc:
            if exc.refused:
                raise TokenConfigMismatch(str(exc)) from None
            raise
        if self.settings.token_algorithm == "HS256":
            # The HS256 fingerprint is served to services only: ask again, as one.
            response = await self.http.get(
                self.base_url + TOKEN_CONFIG_PATH,
                headers={"Authorization": f"Bearer {token}"},
                timeout=5.0,
            )
            response.raise_for_status()
            problems = mismatches(self.settings, response.json(), self.base_url)
            if problems:
                raise TokenConfigMismatch("; ".join(problems))
        try:
            await self.verifier.verify(token)
        except TokenRejected as exc:
            raise TokenConfigMismatch(
                f"a token minted by the auth service at {self.base_url} is refused here "
                f"({exc.reason}: {exc.message})"
            ) from None

    async def start(self) -> None:
        """Refuse to start on a mismatch; tolerate an auth service not up yet."""
        try:
            await self.agreement()
        except TokenConfigMismatch as exc:
            log.error("auth service and this service disagree: %s", exc)
            raise
        except (httpx.HTTPError, ServiceTokenError) as exc:
            log.warning(
                "auth service at %s not usable yet (%s); readiness waits", self.base_url, exc
            )
        self._tasks.append(asyncio.create_task(self.poller.run(), name="revocation-poller"))
        if self.redis is not None:
            push = listen_for_revocations(self.redis, self.verifier.revocations)
            self._tasks.append(asyncio.create_task(push, name="revocation-push"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()
        if self._own_http:
            await self.http.aclose()

    def checks(self) -> list[Check]:
        """Readiness: `jwks` (keys fetched and agreeing), `revocations` (poll fresh)."""

        async def jwks() -> CheckResult:
            try:
                await self.agreement()
            except httpx.HTTPError as exc:
                return CheckResult.fail(f"cannot reach the auth service at {self.base_url}: {exc}")
            except (ServiceTokenError, TokenConfigMismatch, ValueError) as exc:
                return CheckResult.fail(str(exc) or type(exc).__name__)
            loaded = self.verifier.keys.loaded()
            return CheckResult.ok(f"{loaded} key(s) from {self.base_url} verify its tokens", loaded)

        async def revocations() -> CheckResult:
            if self.poller.fresh():
                return CheckResult.ok(f"{len(self.verifier.revocations)} revoked id(s) known")
            return CheckResult.fail(
                self.poller.last_error or "no revocation poll has succeeded yet"
            )

        return [Check("jwks", jwks), Check("revocations", revocations, required=False)]
