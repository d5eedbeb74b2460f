"""The process and its database.

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
    DEPLOYED_OFF,
    Port,
    Seconds,
)
from netra.settings.spec import (
    BOTH,
    DATABASE,
    Environment,
    Spec,
)


class ProcessSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- the process -------------------------------------------------------------
    environment: Annotated[
        Environment,
        Spec(DATABASE, "Which rules apply: development, test, staging or production."),
    ] = Environment.DEVELOPMENT
    data_dir: Annotated[
        Path,
        Spec(
            DATABASE,
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
    max_body_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(
            BOTH,
            "Largest request body accepted, in bytes, on every route: beyond it the answer "
            "is 413, decided from Content-Length or while the body streams in, never after "
            "buffering it.",
        ),
    ] = 1024 * 1024
    ops_token: Annotated[
        SecretStr | None,
        Spec(
            BOTH,
            "Bearer token that shows operators the details of /health/ready (hosts, key "
            "ids, errors) and, in staging/production, /metrics. Without it only requests "
            "made on the machine itself (loopback, not through a proxy) see them.",
            secret=True,
            strong=True,
        ),
    ] = None
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        Spec(DATABASE, "Minimum level of log records."),
    ] = "INFO"
    log_format: Annotated[
        Literal["auto", "console", "json"],
        Spec(
            DATABASE,
            "`json` for log collectors, `console` for people; `auto` picks json in "
            "staging/production.",
        ),
    ] = "auto"
    otel_exporter_otlp_endpoint: Annotated[
        AnyHttpUrl | None,
        Spec(
            BOTH,
            "OpenTelemetry collector (OTLP over HTTP) to send traces to; /v1/traces is "
            "appended. Unset: no traces are recorded.",
            example="http://otel-collector:4318",
        ),
    ] = None

    # --- database ----------------------------------------------------------------
    database_url: Annotated[
        SecretStr | None,
        Spec(
            DATABASE,
            "Full database URL (postgresql:// or sqlite:///). Alternative to the "
            "DB_* parts. Without either, development and test use SQLite in DATA_DIR.",
            secret=True,
            example="postgresql://netra:PASSWORD@10.0.0.5:5432/netra",
        ),
    ] = None
    db_host: Annotated[
        str | None, Spec(DATABASE, "PostgreSQL host, when DATABASE_URL is not given.")
    ] = None
    db_port: Annotated[Port, Spec(DATABASE, "PostgreSQL port.")] = 5432
    db_user: Annotated[str | None, Spec(DATABASE, "PostgreSQL user.")] = None
    db_password: Annotated[
        SecretStr | None, Spec(DATABASE, "PostgreSQL password (URL-escaped for you).", secret=True)
    ] = None
    db_name: Annotated[str | None, Spec(DATABASE, "PostgreSQL database name.")] = None
    cloud_sql_instance: Annotated[
        str | None,
        Spec(
            DATABASE,
            "Cloud SQL instance connection name; connects through the Unix socket "
            "/cloudsql/<name> instead of DB_HOST.",
            example="my-project:europe-west1:netra",
        ),
    ] = None
    db_pool_size: Annotated[
        int,
        Field(ge=1, le=200),
        Spec(
            DATABASE,
            "PostgreSQL connections per process, kept open (SQLite uses one); a "
            "transaction beyond them waits for one (DB_POOL_TIMEOUT).",
        ),
    ] = 10
    db_pool_timeout: Annotated[
        Seconds,
        Spec(
            DATABASE,
            "PostgreSQL: seconds a request waits for a free pooled connection before it "
            "is answered 503 `overloaded` (on a socket, an `error` reply).",
        ),
    ] = 30.0
    db_connect_timeout: Annotated[
        Seconds, Spec(DATABASE, "Seconds to wait for a database connection.")
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
