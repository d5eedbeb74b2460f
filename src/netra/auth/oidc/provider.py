"""One OpenID provider: its discovery document and JWKS (cached; the JWKS is refetched
when an ID token names an unknown `kid`), the authorization URL with PKCE S256, the code
exchange and ID-token verification, all through Authlib."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import JWSRegistry

from netra.auth.oidc.config import ProviderConfig
from netra.errors import BadRequest, Unavailable, UpstreamFailed

with warnings.catch_warnings():
    # Authlib 1.9 announces at import that it will prefer httpx2; Netra speaks httpx
    # everywhere, so every process start printed this to people who can do nothing about it.
    warnings.filterwarnings("ignore", "The httpx module is deprecated", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

DISCOVERY_PATH = "/.well-known/openid-configuration"
METADATA_MAX_AGE = 3600.0
JWKS_MIN_REFETCH = 5.0
LEEWAY = 60
ALGORITHMS = ("RS256", "ES256", "PS256", "EdDSA")


@dataclass
class _Cached:
    value: dict[str, Any]
    fetched: float


class OidcProvider:
    """A configured provider; holds its caches (per instance, no module state)."""

    def __init__(
        self,
        config: ProviderConfig,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.http = http
        self.clock = clock
        self._metadata: _Cached | None = None
        self._jwks: _Cached | None = None
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.config.name

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"{self.config.display_name} cannot be reached ({what} at {url}: "
                f"{type(exc).__name__}); try again later",
                reason="provider_unavailable",
            ) from None
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise UpstreamFailed(
                f"{self.config.display_name} answered its {what} with HTTP "
                f"{response.status_code} ({kind}), not the JSON document OpenID Connect needs",
                reason="provider_bad_response",
            )
        return body

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched at most once per hour; its issuer must be ours."""
        cached = self._metadata
        if cached is not None and self.clock() - cached.fetched < METADATA_MAX_AGE:
            return cached.value
        async with self._lock:
            url = self.config.issuer.rstrip("/") + DISCOVERY_PATH
            body = await self._get_json(url, "discovery document")
            if body.get("issuer") != self.config.issuer:
                raise UpstreamFailed(
                    f"{url} names issuer {body.get('issuer')!r}, but "
                    f"OIDC_{self.name.upper()}_ISSUER is {self.config.issuer!r}",
                    reason="wrong_issuer",
                )
            missing = [
                k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if k not in body
            ]
            if missing:
                raise UpstreamFailed(
                    f"{url} lacks {', '.join(missing)}", reason="provider_bad_response"
                )
            methods = body.get("code_challenge_methods_supported")
            if methods is not None and "S256" not in methods:
                raise UpstreamFailed(
                    f"{self.config.display_name} does not offer PKCE S256",
                    reason="pkce_unsupported",
                )
            self._metadata = _Cached(body, self.clock())
            return body

    async def jwks(self, *, refresh: bool = False) -> dict[str, Any]:
        """The provider's public keys; `refresh` refetches (at most every 5 seconds)."""
        cached = self._jwks
        fresh = cached is not None and self.clock() - cached.fetched < METADATA_MAX_AGE
        if cached is not None and fresh and not refresh:
            return cached.value
        if cached is not None and refresh and self.clock() - cached.fetched < JWKS_MIN_REFETCH:
            return cached.value
        metadata = await self.metadata()
        body = await self._get_json(str(metadata["jwks_uri"]), "JWKS")
        self._jwks = _Cached(body, self.clock())
        return body

    def _oauth(self) -> AsyncOAuth2Client:
        secret = self.config.client_secret
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            token_endpoint_auth_method="client_secret_basic" if secret else "none",
            scope=" ".join(self.config.scopes),
            redirect_uri=self.config.redirect_url,
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def authorization_url(
        self, *, state: str, nonce: str, code_verifier: str, fresh_login: bool = False
    ) -> str:
        """Where to send the browser: code flow, PKCE S256, state and nonce; with
        `fresh_login`, the person must sign in again (`prompt=login`, `max_age=0`)."""
        metadata = await self.metadata()
        extra = {"prompt": "login", "max_age": "0"} if fresh_login else {}
        async with self._oauth() as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
                **extra,
            )
        return str(url)

    async def exchange_code(self, code: str, code_verifier: str) -> dict[str, Any]:
        """Trade the code for tokens (with our exact redirect URL and the PKCE verifier)."""
        metadata = await self.metadata()
        async with self._oauth() as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    redirect_uri=self.config.redirect_url,
                )
            except AuthlibBaseError as exc:
                raise BadRequest(
                    f"{self.config.display_name} refused the sign-in code ({exc.error}: "
                    f"{exc.description or 'no description'}); start the sign-in again",
                    reason="code_rejected",
                ) from None
            except httpx.HTTPError as exc:
                raise Unavailable(
                    f"{self.config.display_name} cannot be reached to finish the sign-in "
                    f"({type(exc).__name__}); try again later",
                    reason="provider_unavailable",
                ) from None
            except ValueError:
                raise UpstreamFailed(
                    f"{self.config.display_name}'s token endpoint did not answer JSON",
                    reason="provider_bad_response",
                ) from None
        if not isinstance(token, dict) or "id_token" not in token:
            raise UpstreamFailed(
                f"{self.config.display_name} sent no ID token", reason="no_id_token"
            )
        return dict(token)

    async def verify_id_token(
        self, id_token: str, *, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """Signature against the provider's JWKS (refetched once for an unknown `kid`),
        then `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` and `at_hash` (Authlib's rules)."""
        metadata = await self.metadata()
        algorithms = [
            a
            for a in metadata.get("id_token_signing_alg_values_supported", ["RS256"])
            if a in ALGORITHMS
        ] or ["RS256"]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                token = jwt.decode(id_token, _keyset(await self.jwks()), registry=registry)
            except InvalidKeyIdError:
                keys = _keyset(await self.jwks(refresh=True))
                token = jwt.decode(id_token, keys, registry=registry)
        except InvalidKeyIdError:
            raise _bad_token(
                "unknown_key", "is signed by a key the provider does not publish"
            ) from None
        except (JoseError, ValueError) as exc:
            raise _bad_token("invalid_signature", f"cannot be verified ({exc})") from None
        params: dict[str, Any] = {"nonce": nonce, "client_id": self.config.client_id}
        if access_token is not None:
            params["access_token"] = access_token
        # `aud` is checked itself: Authlib's azp rule alone lets a token issued to another
        # client through when it names us only as `azp`.
        options = {
            "iss": {"values": [self.config.issuer]},
            "sub": {"essential": True},
            "aud": {"essential": True, "values": [self.config.client_id]},
        }
        claims = CodeIDToken(token.claims, token.header, options, params)
        try:
            claims.validate(leeway=LEEWAY)
        except ExpiredTokenError:
            raise _bad_token("expired", "has expired") from None
        except JoseError as exc:
            raise _bad_token("invalid_claim", f"is not for this sign-in ({exc})") from None
        return dict(claims)


def _keyset(body: dict[str, Any]) -> KeySet:
    try:
        return KeySet.import_key_set(cast(KeySetSerialization, body))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise UpstreamFailed(
            f"the provider's JWKS is unusable ({exc})", reason="provider_bad_response"
        ) from None


def _bad_token(reason: str, what: str) -> BadRequest:
    return BadRequest(f"the provider's ID token {what}", reason=f"id_token_{reason}")
