"""The one configuration contract: every setting of both services, declared once.

Each field's `Spec` says which services need it, whether it is a secret, where it is
required and under which names it may be found. `netra config docs` renders this
declaration into docs/configuration.md; startup and `netra config check` resolve it.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)

from netra.settings.spec import (
    AUTH,
    BACKEND,
    BOTH,
    CLIENTS,
    DEPLOYED,
    Environment,
    Spec,
    token_urlsafe_32,
)

LOCAL = {Environment.DEVELOPMENT: True, Environment.TEST: True}
DEPLOYED_OFF = {**LOCAL, Environment.STAGING: False, Environment.PRODUCTION: False}

Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, le=86400 * 366)]
NonNegativeSeconds = Annotated[float, Field(ge=0, le=3600)]


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], BeforeValidator(_split_csv)]


def _networks(value: list[str]) -> list[str]:
    for item in value:
        ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
    return value


NetworkList = Annotated[list[str], BeforeValidator(_split_csv), AfterValidator(_networks)]


class Settings(BaseModel):
    """Resolved configuration. Build it with `netra.settings.load_settings`, never by hand
    outside tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- the process -------------------------------------------------------------
    environment: Annotated[
        Environment,
        Spec(BOTH, "Which rules apply: development, test, staging or production."),
    ] = Environment.DEVELOPMENT
    data_dir: Annotated[
        Path,
        Spec(
            BOTH,
            "Where the embedded default keeps its SQLite database and generated "
            "development secrets.",
        ),
    ] = Path(".netra")
    public_url: Annotated[
        AnyHttpUrl | None,
        Spec(
            BOTH,
            "The URL users reach this service at (used in links, the token issuer "
            "default and the web UI). Defaults to the address it listens on.",
            example="https://chat.example.com",
        ),
    ] = None
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        Spec(BOTH, "Minimum level of log records."),
    ] = "INFO"
    log_format: Annotated[
        Literal["auto", "console", "json"],
        Spec(
            BOTH,
            "`json` for log collectors, `console` for people; `auto` picks json in "
            "staging/production.",
        ),
    ] = "auto"

    # --- database ----------------------------------------------------------------
    database_url: Annotated[
        SecretStr | None,
        Spec(
            BOTH,
            "Full database URL (postgresql:// or sqlite:///). Alternative to the "
            "DB_* parts. Without either, development and test use SQLite in DATA_DIR.",
            secret=True,
            example="postgresql://netra:PASSWORD@10.0.0.5:5432/netra",
        ),
    ] = None
    db_host: Annotated[
        str | None, Spec(BOTH, "PostgreSQL host, when DATABASE_URL is not given.")
    ] = None
    db_port: Annotated[Port, Spec(BOTH, "PostgreSQL port.")] = 5432
    db_user: Annotated[str | None, Spec(BOTH, "PostgreSQL user.")] = None
    db_password: Annotated[
        SecretStr | None, Spec(BOTH, "PostgreSQL password (URL-escaped for you).", secret=True)
    ] = None
    db_name: Annotated[str | None, Spec(BOTH, "PostgreSQL database name.")] = None
    cloud_sql_instance: Annotated[
        str | None,
        Spec(
            BOTH,
            "Cloud SQL instance connection name; connects through the Unix socket "
            "/cloudsql/<name> instead of DB_HOST.",
            example="my-project:europe-west1:netra",
        ),
    ] = None
    db_pool_size: Annotated[int, Field(ge=1, le=200), Spec(BOTH, "Connections per process.")] = 5
    db_connect_timeout: Annotated[
        Seconds, Spec(BOTH, "Seconds to wait for a database connection.")
    ] = 5.0
    auto_migrate: Annotated[
        bool,
        Spec(
            BOTH,
            "Upgrade the schema to head at startup. Off in staging/production, where "
            "`netra migrate` runs as a release step and readiness waits for it.",
            env_defaults=DEPLOYED_OFF,
        ),
    ] = True

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
    access_token_ttl: Annotated[Seconds, Spec(AUTH, "Lifetime of access tokens in seconds.")] = (
        900.0
    )
    service_secret_previous: Annotated[
        SecretStr | None,
        Spec(
            AUTH,
            "The backend's previous SERVICE_SECRET, still accepted during a rotation: set "
            "the new secret on auth with the old one here, roll the backend, then unset.",
            secret=True,
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
        Spec(AUTH, "Failed sign-ins allowed per account within LOGIN_LIMIT_WINDOW."),
    ] = 10
    login_limit_per_ip: Annotated[
        int,
        Field(ge=1),
        Spec(AUTH, "Sign-in and registration attempts allowed per client IP within the window."),
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

    # --- chat backend and agents -------------------------------------------------
    redis_url: Annotated[
        SecretStr | None,
        Spec(
            BOTH,
            "Redis joins backend instances (live events, revocations, rate limits). "
            "Without it everything stays in-process.",
            secret=True,
            example="redis://10.0.0.7:6379/0",
        ),
    ] = None
    allowed_origins: Annotated[
        CommaList,
        Spec(
            BACKEND,
            "Origins allowed to open /ws and call the API from a browser "
            "(comma-separated). Empty: only the backend's own origin.",
        ),
    ] = Field(default_factory=list)
    agent_provider: Annotated[
        Literal["builtin", "openai", "local"],
        Spec(
            BACKEND,
            "The agent runtime: builtin (offline planner), openai (any "
            "OpenAI-compatible server) or local (in-process GGUF model).",
        ),
    ] = "builtin"
    openai_base_url: Annotated[
        AnyHttpUrl | None,
        Spec(
            BACKEND, "Base URL of the OpenAI-compatible server.", example="http://127.0.0.1:8080/v1"
        ),
    ] = None
    openai_api_key: Annotated[
        SecretStr | None, Spec(BACKEND, "API key for the OpenAI-compatible server.", secret=True)
    ] = None
    openai_model: Annotated[str, Spec(BACKEND, "Model name sent to that server.")] = "gpt-4o-mini"
    local_model_path: Annotated[
        Path | None,
        Spec(
            BACKEND,
            "GGUF file for AGENT_PROVIDER=local; defaults to SmolLM2-135M from the "
            "`local-llm` extra.",
        ),
    ] = None
    run_timeout: Annotated[Seconds, Spec(BACKEND, "Longest an agent run may take, in seconds.")] = (
        120.0
    )
    agent_max_steps: Annotated[
        int,
        Field(ge=1, le=50),
        Spec(BACKEND, "Most model calls in one run's tool loop (call, tool results, call...)."),
    ] = 8
    tool_timeout: Annotated[
        Seconds, Spec(BACKEND, "Longest one tool call may take, in seconds.")
    ] = 10.0
    openai_max_retries: Annotated[
        int,
        Field(ge=0, le=10),
        Spec(BACKEND, "Retries (with backoff) of a model request answered 429/5xx or cut off."),
    ] = 2
    openai_timeout: Annotated[
        Seconds,
        Spec(BACKEND, "Seconds to wait for the model server to connect or send the next chunk."),
    ] = 60.0
    local_max_tokens: Annotated[
        int, Field(ge=1, le=32768), Spec(BACKEND, "Most tokens the local model writes per answer.")
    ] = 512

    # --- chat limits (documented in docs/protocol.md) ------------------------------
    ws_max_frame_bytes: Annotated[
        int,
        Field(ge=1024, le=16 << 20),
        Spec(BACKEND, "Largest client WebSocket frame in bytes; bigger closes with 4413."),
    ] = 65536
    message_max_chars: Annotated[
        int,
        Field(ge=1, le=1_000_000),
        Spec(BACKEND, "Longest message text in characters (REST 413, WebSocket error)."),
    ] = 16000
    ws_queue_size: Annotated[
        int,
        Field(ge=8, le=1_000_000),
        Spec(
            BACKEND,
            "Frames queued for one WebSocket before the server gives up on a slow reader "
            "and closes with 1013 (the client resumes from its last seq).",
        ),
    ] = 2048
    ws_max_connections: Annotated[
        int,
        Field(ge=1, le=1_000_000),
        Spec(BACKEND, "Authenticated WebSockets per process; above it, close 1013."),
    ] = 20000
    ws_max_pending: Annotated[
        int,
        Field(ge=1, le=100_000),
        Spec(BACKEND, "WebSockets still authenticating at once; above it, close 1013."),
    ] = 256
    ws_auth_timeout: Annotated[
        Seconds, Spec(BACKEND, "Seconds a WebSocket may take to authenticate (else 4401).")
    ] = 5.0
    ws_heartbeat_interval: Annotated[
        Seconds,
        Spec(
            BACKEND,
            "Seconds of silence after which the server sends a heartbeat; a client silent "
            "for three intervals is closed with 1001.",
        ),
    ] = 20.0
    chat_rate_limit: Annotated[
        int,
        Field(ge=1, le=1_000_000),
        Spec(BACKEND, "Messages one user may send per minute (REST 429, WebSocket 4429)."),
    ] = 30
    ws_frame_rate_limit: Annotated[
        int,
        Field(ge=1, le=1_000_000),
        Spec(BACKEND, "Frames one WebSocket may send per 10 seconds before 4429."),
    ] = 200
    run_lease: Annotated[
        Seconds,
        Spec(
            BACKEND,
            "Seconds a run's instance lease lasts (renewed at a third); a run whose lease "
            "expired is failed by any instance.",
        ),
    ] = 30.0

    # --- command-line clients (netra chat, netra smoke) ----------------------------
    netra_token: Annotated[
        SecretStr | None,
        Spec(
            CLIENTS,
            "An access token or API key for `netra chat` instead of signing in.",
            secret=True,
        ),
    ] = None
    smoke_email: Annotated[
        str | None,
        Spec(
            CLIENTS,
            "The account `netra smoke` signs in as (created on first use where "
            "registration is open). Unset: a throw-away account per run.",
        ),
    ] = None
    smoke_password: Annotated[
        SecretStr | None,
        Spec(CLIENTS, "The smoke account's password; never printed.", secret=True),
    ] = None

    @property
    def sqlite_path(self) -> Path:
        """The embedded default's database file."""
        return self.data_dir / "netra.db"
