"""Services, tokens and sign-in: what the auth service and its verifiers share.

Part of the one contract (netra.settings.contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
)

from netra.settings.contract.types import (
    CommaList,
    NetworkList,
    NonNegativeSeconds,
    Seconds,
)
from netra.settings.spec import (
    AUTH,
    BACKEND,
    BOTH,
    DEPLOYED,
    Spec,
    token_urlsafe_32,
)


class AuthSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- services and tokens -----------------------------------------------------
    auth_service_url: Annotated[
        AnyHttpUrl | None,
        Spec(
            BACKEND,
            "Base URL of the auth service, as the backend reaches it. Defaults to "
            "this process in the embedded deployment.",
            required_in=DEPLOYED,
            example="https://auth.example.com",
        ),
    ] = None
    service_id: Annotated[
        str,
        Spec(
            BOTH,
            "The backend's identity towards the auth service (the auth service keeps a "
            "service account of this name).",
        ),
    ] = "netra-backend"
    service_secret: Annotated[
        SecretStr | None,
        Spec(
            BOTH,
            "Client secret of the backend's service account (the auth service keeps "
            "only its hash).",
            secret=True,
            strong=True,
            required_in=DEPLOYED,
            generate=token_urlsafe_32,
        ),
    ] = None
    token_algorithm: Annotated[
        Literal["EdDSA", "ES256", "HS256"],
        Spec(
            BOTH,
            "How access tokens are signed. EdDSA/ES256: the auth service's private key, "
            "verified against its JWKS (no shared secret). HS256: legacy shared secret.",
        ),
    ] = "EdDSA"
    jwt_secret: Annotated[
        SecretStr | None,
        Spec(
            BOTH,
            "Shared HS256 secret, only when TOKEN_ALGORITHM=HS256. One chain for both "
            "services: JWT_SECRET_{ENVIRONMENT}, then JWT_SECRET_KEY, then JWT_SECRET.",
            secret=True,
            strong=True,
            generate=token_urlsafe_32,
            names=("JWT_SECRET_{ENVIRONMENT}", "JWT_SECRET_KEY", "JWT_SECRET"),
        ),
    ] = None
    jwt_issuer: Annotated[
        str, Spec(BOTH, "The `iss` of access tokens; both services must agree.")
    ] = "netra-auth"
    jwt_audience: Annotated[
        str, Spec(BOTH, "The `aud` of access tokens; both services must agree.")
    ] = "netra"
    access_token_ttl: Annotated[
        Seconds, Field(ge=1), Spec(AUTH, "Lifetime of access tokens in seconds (at least 1).")
    ] = 900.0
    service_secret_previous: Annotated[
        SecretStr | None,
        Spec(
            AUTH,
            "The backend's previous SERVICE_SECRET, still accepted during a rotation: set "
            "the new secret on auth with the old one here, roll the backend, then unset.",
            secret=True,
            strong=True,
        ),
    ] = None
    token_leeway: Annotated[
        NonNegativeSeconds,
        Spec(BOTH, "Clock skew tolerated on `nbf`/`iat` of tokens, in seconds (`exp` is strict)."),
    ] = 30.0
    jwks_refetch_interval: Annotated[
        Seconds,
        Spec(
            BACKEND,
            "Least seconds between two JWKS fetches caused by a token naming an unknown `kid`.",
        ),
    ] = 5.0
    revocation_poll_interval: Annotated[
        Seconds,
        Spec(
            BACKEND,
            "Seconds between polls of the auth service's revoked sessions and API keys: the "
            "bound on how long a revoked session's access token is still accepted here.",
        ),
    ] = 5.0
    api_key_cache_ttl: Annotated[
        Seconds,
        Spec(BACKEND, "Seconds the backend caches the auth service's answer for an API key."),
    ] = 30.0
    session_idle_ttl: Annotated[
        Seconds,
        Spec(AUTH, "A refresh token unused this many seconds expires (the session idles out)."),
    ] = 14 * 86400.0
    session_max_age: Annotated[
        Seconds,
        Spec(AUTH, "Absolute lifetime of a session in seconds, however often it is refreshed."),
    ] = 30 * 86400.0
    refresh_reuse_grace: Annotated[
        NonNegativeSeconds,
        Spec(
            AUTH,
            "Seconds after a rotation during which presenting the rotated refresh token again "
            "is answered 401 without revoking the family (concurrent tabs, retried requests).",
        ),
    ] = 2.0
    password_min_length: Annotated[
        int, Field(ge=8, le=128), Spec(AUTH, "Shortest password accepted, in characters.")
    ] = 10
    trusted_proxies: Annotated[
        NetworkList,
        Spec(
            AUTH,
            "Addresses or networks (CIDR) of proxies whose X-Forwarded-For is believed "
            "(comma-separated). Empty: the peer address is the client.",
            example="10.0.0.0/8,127.0.0.1",
        ),
    ] = Field(default_factory=list)
    login_limit_per_account: Annotated[
        int,
        Field(ge=1),
        Spec(
            AUTH,
            "Failed sign-ins allowed per account within LOGIN_LIMIT_WINDOW from browsers "
            "without the account's device cookie.",
        ),
    ] = 10
    login_limit_per_device: Annotated[
        int,
        Field(ge=1),
        Spec(
            AUTH,
            "Failed sign-ins allowed within the window from a browser holding the account's "
            "device cookie (its own budget: guesses from elsewhere never lock it out).",
        ),
    ] = 5
    login_limit_per_ip: Annotated[
        int,
        Field(ge=1),
        Spec(
            AUTH,
            "Sign-in (password or OIDC start) and registration attempts allowed per client IP"
            " within the window.",
        ),
    ] = 60
    login_limit_window: Annotated[
        Seconds, Spec(AUTH, "The window of the sign-in rate limits, in seconds.")
    ] = 900.0
    key_encryption_key: Annotated[
        SecretStr | None,
        Spec(
            AUTH,
            "Encrypts signing keys at rest in the database.",
            secret=True,
            strong=True,
            required_in=DEPLOYED,
            generate=token_urlsafe_32,
        ),
    ] = None
    signing_key_file: Annotated[
        Path | None,
        Spec(
            AUTH,
            "PEM private key(s) mounted from a secret store, instead of keys generated into "
            "the database: the first signs, any further ones are only published (keep the "
            "old key there until its tokens have expired when you rotate).",
            example="/secrets/netra-signing-key.pem",
        ),
    ] = None

    # --- sign in with OpenID Connect (docs/oidc.md) --------------------------------
    oidc_providers: Annotated[
        CommaList,
        Spec(
            AUTH,
            "OpenID Connect providers users may sign in with (comma-separated names; each "
            "is configured by the OIDC_<NAME>_* family below). `google` is a preset.",
            example="google,corp",
        ),
    ] = Field(default_factory=list)
    oidc_provider_settings: Annotated[
        dict[str, SecretStr] | None,
        Spec(
            AUTH,
            "Per provider: OIDC_<NAME>_ISSUER (preset for google), _CLIENT_ID, "
            "_CLIENT_SECRET (secret; required in staging/production), _REDIRECT_URL "
            "(default PUBLIC_URL/auth/oidc/<name>/callback), _SCOPES (default `openid email "
            "profile`), _DISPLAY_NAME, _TRUST_EMAIL (default false: the provider's verified "
            "email never joins an existing account by itself). https required outside "
            "development and test.",
            secret=True,
            names=("OIDC_<NAME>_<KEY>",),
            prefix="OIDC_",
            example="OIDC_CORP_ISSUER=https://login.example.com",
        ),
    ] = None
