"""Prometheus metrics of one app, on its own registry (several apps may share a process)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
FIRST_TOKEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)
RUN_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    """Every metric Netra exports; components record through `runtime.metrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "netra_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "netra_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ws_open = Gauge(
            "netra_websocket_connections_open", "WebSocket connections open now", registry=r
        )
        self.ws_closes = Counter(
            "netra_websocket_closes",
            "WebSocket closes by close code (4401, 1006, ...)",
            ["code"],
            registry=r,
        )
        self.events_sent = Counter(
            "netra_events_sent", "Agent events delivered to clients", ["type"], registry=r
        )
        self.runs = Counter("netra_runs", "Agent runs finished by outcome", ["outcome"], registry=r)
        self.run_duration = Histogram(
            "netra_run_duration_seconds",
            "Agent run duration by outcome",
            ["outcome"],
            buckets=RUN_BUCKETS,
            registry=r,
        )
        self.runs_active = Gauge(
            "netra_runs_active", "Agent runs executing in this process now", registry=r
        )
        self.runs_queued = Gauge(
            "netra_runs_queued",
            "Agent runs of this process waiting for a worker (RUN_WORKERS busy)",
            registry=r,
        )
        self.run_errors = Counter(
            "netra_run_errors",
            "Runs ended with agent_error, by its code (timeout, provider_error, quota_exceeded...)",
            ["code"],
            registry=r,
        )
        self.time_to_first_token = Histogram(
            "netra_time_to_first_token_seconds",
            "From the message being stored to the first answer text of its run",
            ["model"],
            buckets=FIRST_TOKEN_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "netra_tokens",
            "Tokens used by finished runs, by model and direction (input/output)",
            ["model", "direction"],
            registry=r,
        )
        self.cost = Counter(
            "netra_cost_usd",
            "Cost of finished runs in USD (priced models only)",
            ["model"],
            registry=r,
        )
        self.tool_calls = Counter(
            "netra_tool_calls",
            "Tool calls by the server that provides the tool and outcome (ok/error)",
            ["server", "outcome"],
            registry=r,
        )
        self.approvals_waiting = Gauge(
            "netra_approvals_waiting",
            "Runs paused waiting for a person to approve a tool call",
            registry=r,
        )
        self.quota_refusals = Counter(
            "netra_quota_refusals",
            "Runs refused or stopped by a budget, by the limit's name",
            ["limit"],
            registry=r,
        )
        self.logins = Counter(
            "netra_logins", "Sign-in attempts by outcome", ["outcome"], registry=r
        )
        self.refresh_replays = Counter(
            "netra_refresh_replays", "Replayed refresh tokens (their families revoked)", registry=r
        )
        self.readiness = Gauge(
            "netra_readiness_check",
            "Readiness check results: 1 pass, 0.5 warn, 0 fail",
            ["check"],
            registry=r,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
