"""What one run used, observed from its events as they pass through the backend, and
what it costs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime

from netra.agents.catalog import Catalog
from netra.agents.events import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    AgentStarted,
    MessageDelta,
    ToolCompleted,
    Usage,
)
from netra.db.base import utcnow
from netra.settings import Settings

# Providers that run on the operator's own machine: their tokens cost nothing.
FREE_PROVIDERS = frozenset({"builtin", "local"})


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000


def price_for(
    settings: Settings,
    provider: str,
    price_in: float | None = None,
    price_out: float | None = None,
) -> Price | None:
    """A model's price: the catalog's (MODELS_FILE `price_in`/`price_out`) when it has
    one, else the configured one of `provider`; None when it has none."""
    if price_in is not None:
        return Price(price_in, price_out if price_out is not None else 0.0)
    if provider in FREE_PROVIDERS:
        return Price(0.0, 0.0)
    if provider == "openai" and settings.openai_price_input is not None:
        output = settings.openai_price_output
        return Price(settings.openai_price_input, output if output is not None else 0.0)
    return None


@dataclass(frozen=True)
class CatalogPricing:
    """`pricing(provider, model)`: the catalog model's price, else its provider's
    settings' (OPENAI_PRICE_*)."""

    settings: Settings
    catalog: Catalog | None

    def __call__(self, provider: str, model: str) -> Price | None:
        entry = self.catalog.model(model) if self.catalog is not None else None
        if entry is None:
            return price_for(self.settings, provider)
        return price_for(self.settings, provider, entry.price_in, entry.price_out)


def estimate_tokens(chars: int) -> int:
    """A rough count for text whose tokens nobody reported: about four characters each."""
    return (chars + 3) // 4


@dataclass
class RunTally:
    """Fed every event of one run, in order; read when the run ends."""

    user_id: str
    thread_id: str
    run_id: str
    provider: str
    model: str
    prompt_chars: int = 0
    # The thread's assistant (netra.chat.assistants): `builtin` or its id.
    assistant: str | None = None
    email: str | None = None
    # The day the run was admitted on, when a budget admitted it (it may start a moment
    # later, after midnight).
    admitted_on: date | None = None
    started_at: datetime = field(default_factory=utcnow)
    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    answer_chars: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = True
    reported: bool = False
    # Model calls' usage as the provider told the meter (netra.usage.meter), for a run
    # that ends in an error, whose total nobody reports.
    metered_input: int = 0
    metered_output: int = 0
    metered_estimated: bool = False
    metered_calls: int = 0

    @property
    def day(self) -> date:
        """The UTC day the run started, which its usage counts on."""
        return self.admitted_on or self.started_at.date()

    def observe(self, event: AgentEvent) -> None:
        if isinstance(event, AgentStarted):  # a fallback model took over
            self.provider = event.provider
            self.model = event.model or self.model
        elif isinstance(event, MessageDelta):
            if self.first_token is None:
                self.first_token = time.perf_counter()
            self.answer_chars += len(event.text)
        elif isinstance(event, ToolCompleted):
            self.tool_calls += 1
            self.tool_errors += event.error is not None
        elif isinstance(event, AgentCompleted):
            self._usage(event)
        elif isinstance(event, AgentError) and not self.reported:
            if self.metered_calls:
                self.input_tokens, self.output_tokens = self.metered_input, self.metered_output
                self.estimated = self.metered_estimated
            else:
                self._estimate()

    def metered(self, usage: Usage) -> None:
        """One model call's usage, told while the run goes on."""
        self.metered_calls += 1
        self.metered_input += usage.input_tokens or 0
        self.metered_output += usage.output_tokens or 0
        self.metered_estimated |= usage.estimated or usage.input_tokens is None

    def _usage(self, event: AgentCompleted) -> None:
        usage = event.usage
        reported = usage.input_tokens is not None or usage.output_tokens is not None
        if reported and not usage.estimated:
            self.input_tokens = usage.input_tokens or 0
            self.output_tokens = usage.output_tokens or 0
            self.estimated = False
            self.reported = True
            return
        self._estimate()
        if usage.output_tokens:  # counted by the runtime from the stream: better than chars
            self.output_tokens = usage.output_tokens

    def _estimate(self) -> None:
        self.input_tokens = estimate_tokens(self.prompt_chars)
        self.output_tokens = estimate_tokens(self.answer_chars)
        self.estimated = True

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def duration_ms(self) -> int:
        return round((time.perf_counter() - self.started) * 1000)

    @property
    def first_token_seconds(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.started
