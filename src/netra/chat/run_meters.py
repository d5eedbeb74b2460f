"""How a run's usage is metered (netra.usage): the meter a run's own task keeps, and the
one that records a run ended for a dead instance (or from afar) as its task would have."""

from __future__ import annotations

from netra.agents.run import started_event
from netra.agents.runtime import Agent
from netra.chat.legs import Leg
from netra.chat.models import Run
from netra.health.metrics import Metrics
from netra.usage.meter import RunMeter
from netra.usage.store import UsageStore
from netra.usage.tally import CatalogPricing, RunTally


class RunMeters:
    """Makes each run's `RunMeter` with the process's metrics, prices and usage store
    (None keeps no usage: tests, the bench baseline)."""

    def __init__(self, metrics: Metrics, pricing: CatalogPricing, store: UsageStore | None) -> None:
        self.metrics = metrics
        self.pricing = pricing
        self.store = store

    def for_leg(self, leg: Leg, agent: Agent) -> RunMeter:
        """The meter of a run (or a resumed leg of it) this process executes."""
        admission = leg.admission
        tally = RunTally(
            leg.user_id,
            leg.thread_id,
            leg.run_id,
            provider=agent.name,
            model=started_event(agent).model or agent.name,  # the catalog id
            prompt_chars=len(leg.message.content) if leg.message is not None else 0,
            assistant=leg.assistant,
            admitted_on=admission.day if admission is not None else None,
            email=admission.email if admission is not None else None,
        )
        return RunMeter(
            tally,
            metrics=self.metrics,
            price=self.pricing(tally.provider, tally.model),
            store=self.store,
            admission=admission,
            pricing=self.pricing,
        )

    def for_orphan(self, run: Run, user_id: str) -> RunMeter:
        """Records the usage of a run ended for a dead instance (or from afar), as its
        own would."""
        model = run.model or run.provider
        tally = RunTally(
            user_id,
            run.thread_id,
            run.id,
            provider=run.provider,
            model=model,
            admitted_on=run.admitted_on,
            started_at=run.started_at or run.created_at,
        )
        return RunMeter.orphan(
            tally,
            metrics=self.metrics,
            price=self.pricing(run.provider, model),
            store=self.store,
            admitted_on=run.admitted_on,
        )
