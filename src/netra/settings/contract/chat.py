"""The chat backend, its agents and limits, and the command-line clients.

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
    Seconds,
)
from netra.settings.spec import (
    BACKEND,
    BOTH,
    CLIENTS,
    Spec,
)


class ChatSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

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
    models_file: Annotated[
        Path | None,
        Spec(
            BACKEND,
            "TOML file declaring the models, MCP servers and shared assistants (see "
            "docs/agents.md). Unset: one model from AGENT_PROVIDER and its settings.",
            example="/etc/netra/models.toml",
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

    # --- usage accounting (docs/operations.md, Usage) ------------------------------
    openai_price_input: Annotated[
        float | None,
        Field(ge=0),
        Spec(
            BACKEND,
            "USD per million input tokens of the openai provider's model, for usage "
            "costs. Unset: its runs are recorded as unpriced (the builtin and local "
            "providers cost nothing).",
            example="0.15",
        ),
    ] = None
    openai_price_output: Annotated[
        float | None,
        Field(ge=0),
        Spec(
            BACKEND, "USD per million output tokens of the openai provider's model.", example="0.6"
        ),
    ] = None

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
    ws_max_per_user: Annotated[
        int,
        Field(ge=1, le=100_000),
        Spec(
            BACKEND,
            "Open WebSockets and SSE streams one user may hold in this process; the next "
            "socket is closed with 1013, the next SSE stream answered 429.",
        ),
    ] = 16
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
    run_workers: Annotated[
        int,
        Field(ge=1, le=100_000),
        Spec(
            BACKEND,
            "Agent runs one backend process executes at once; more wait for a worker in "
            "turns by user (the `send_message` ack says `queued`). A run holds its worker "
            "while it waits on the model: raise it where runs wait on slow remote models, "
            "lower it (about 16) where they are bound by the CPU and the database.",
        ),
    ] = 32
    event_linger: Annotated[
        float,
        Field(ge=0, le=20),
        Spec(
            BACKEND,
            "Milliseconds the event writer waits for more runs' events before committing a "
            "group, when the last group had more than one run's (a lone run never waits); "
            "0 groups only what arrives during a commit.",
        ),
    ] = 2.0
    approval_timeout: Annotated[
        Seconds,
        Spec(
            BACKEND,
            "Seconds a run waits for a person to approve a tool marked `requires_approval` "
            "(MODELS_FILE); unanswered by then, the call is declined and the run goes on.",
        ),
    ] = 600.0

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
    smoke_totp_secret: Annotated[
        SecretStr | None,
        Spec(
            CLIENTS,
            "The smoke account's TOTP secret, when it has two-factor sign-in (`netra smoke "
            "--totp-secret` overrides it).",
            secret=True,
        ),
    ] = None
