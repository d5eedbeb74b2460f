"""One run's meter: fed the run's events by the backend, it keeps the metrics, stops the
run when it crosses a budget (after the model call that crossed it) and records its
usage in the transaction that ends the run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from netra.agents.events import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentStarted,
    MessageDelta,
    ToolCompleted,
)
from netra.agents.events import Usage as StepUsage
from netra.agents.mcp.tools import server_of
from netra.agents.run import ProviderError
from netra.health.metrics import Metrics
from netra.usage.budgets import Limits
from netra.usage.records import UsageRows, run_rows
from netra.usage.store import NOTHING_SPENT, Admission, UsageStore
from netra.usage.tally import Price, RunTally

# The `server` label of Netra's own tools.
BUILTIN_SERVER = "builtin"


class RunMeter:
    def __init__(
        self,
        tally: RunTally,
        *,
        metrics: Metrics,
        price: Price | None,
        store: UsageStore | None = None,
        admission: Admission | None = None,
        pricing: Callable[[str, str], Price | None] | None = None,
    ) -> None:
        """`pricing(provider, model)`: the price of a model the run falls back to."""
        self.tally = tally
        self.metrics = metrics
        self.price = price
        self.store = store
        self.admission = admission
        self.pricing = pricing
        self.metered_tokens = 0
        self.metered_cost = 0.0

    @classmethod
    def orphan(
        cls,
        tally: RunTally,
        *,
        metrics: Metrics,
        price: Price | None,
        store: UsageStore | None,
        admitted_on: date | None,
    ) -> RunMeter:
        """The meter of a run whose instance died, ended by a sweeper: what it used there
        is lost, but its usage row records the failure and a budget's place in flight on
        `admitted_on` is given back."""
        admission = None if admitted_on is None else Admission(admitted_on, Limits(), NOTHING_SPENT)
        return cls(tally, metrics=metrics, price=price, store=store, admission=admission)

    def observe(self, event: AgentEvent) -> None:
        first = self.tally.first_token is None
        self.tally.observe(event)
        if isinstance(event, AgentStarted) and self.pricing is not None:
            self.price = self.pricing(self.tally.provider, self.tally.model)
        elif isinstance(event, MessageDelta) and first:
            seconds = self.tally.first_token_seconds or 0.0
            self.metrics.time_to_first_token.labels(self.tally.model).observe(seconds)
        elif isinstance(event, ToolCompleted):
            outcome = "ok" if event.error is None else "error"
            server = server_of(event.tool) or BUILTIN_SERVER
            self.metrics.tool_calls.labels(server, outcome).inc()

    async def check(self, usage: StepUsage) -> None:
        """After a model call, before the run goes on: stop it if a budget is crossed."""
        self.tally.metered(usage)
        tokens = (usage.input_tokens or 0) + (usage.output_tokens or 0)
        self.metered_tokens += tokens
        if self.price is not None:
            self.metered_cost += self.price.cost(usage.input_tokens or 0, usage.output_tokens or 0)
        if self.admission is None:
            return
        crossed = self.admission.crossed(self.metered_tokens, self.metered_cost)
        if crossed is not None:
            self.metrics.quota_refusals.labels(crossed.limit).inc()
            raise ProviderError(f"The run was stopped: {crossed}.", code="quota_exceeded")

    @property
    def cost(self) -> float | None:
        tally = self.tally
        return (
            None if self.price is None else self.price.cost(tally.input_tokens, tally.output_tokens)
        )

    def settle(self, terminal: AgentCompleted | AgentError) -> UsageRows | None:
        """The ended run's usage rows, for the transaction that ends it (None when no
        usage is kept). Its metrics wait for `count` (only the run's first end counts)."""
        self.tally.observe(terminal)
        if self.store is None:
            return None
        completed = isinstance(terminal, AgentCompleted)
        return run_rows(
            self.tally,
            status="completed" if completed else _failed(terminal),
            error_code=None if isinstance(terminal, AgentCompleted) else terminal.code,
            cost=self.cost,
            admitted=self.admission is not None and self.admission.counted,
        )

    def count(self, terminal: AgentCompleted | AgentError) -> None:
        """The metrics of the run's end, once it is recorded."""
        tally, cost = self.tally, self.cost
        self.metrics.tokens.labels(tally.model, "input").inc(tally.input_tokens)
        self.metrics.tokens.labels(tally.model, "output").inc(tally.output_tokens)
        if cost:
            self.metrics.cost.labels(tally.model).inc(cost)
        if isinstance(terminal, AgentError):
            self.metrics.run_errors.labels(terminal.code).inc()


def _failed(terminal: AgentCompleted | AgentError) -> str:
    return (
        "cancelled"
        if isinstance(terminal, AgentError) and terminal.code == "cancelled"
        else "failed"
    )
