"""Accounting and admission on SQLite and PostgreSQL, with several instances (engines)
writing at once: no lost update, at most one run past the edge of a budget, budget
changes seen at once everywhere."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from netra.agents.catalog.loader import legacy_catalog
from netra.agents.events import AgentStarted
from netra.db.base import utcnow
from netra.usage.budgets import Limits, QuotaExceeded, effective, resets_at
from netra.usage.models import Budget, RunUsage, UsageDaily, UserDay
from netra.usage.store import Admission, UsageStore
from netra.usage.tally import RunTally, price_for
from tests.support.usage import Instances, principal


def tally(run: int, tokens: int = 10, *, user: str = "u1", model: str = "m") -> RunTally:
    t = RunTally(user, "thread", f"run-{run}", provider="openai", model=model)
    t.input_tokens, t.output_tokens, t.estimated = tokens - 3, 3, False
    t.tool_calls, t.tool_errors = 2, 1
    return t


async def record(store: UsageStore, t: RunTally, cost: float | None = 0.01) -> None:
    async with store.db.begin() as session:
        await store.record(
            session, t, status="completed", error_code=None, cost=cost, admitted=False
        )


async def set_budget(store: UsageStore, scope: str, name: str, **limits: float) -> None:
    async with store.db.begin() as session:
        values = Limits(**limits).as_dict()  # type: ignore[arg-type]
        session.add(Budget(scope=scope, name=name, updated_at=utcnow(), **values))


async def attempt(store: UsageStore, user_id: str = "u1") -> Admission | QuotaExceeded | None:
    try:
        return await store.admit(principal(user_id))
    except QuotaExceeded as exc:
        return exc


async def test_concurrent_runs_on_several_instances_lose_no_update(instances: Instances) -> None:
    stores = instances(3)
    await asyncio.gather(*(record(stores[i % 3], tally(i)) for i in range(30)))
    async with stores[0].db() as session:
        daily = (await session.execute(select(UsageDaily))).scalars().one()
        day = (await session.execute(select(UserDay))).scalars().one()
        runs = (await session.execute(select(RunUsage))).scalars().all()
    assert (daily.runs, daily.input_tokens, daily.output_tokens) == (30, 210, 90)
    assert (daily.tool_calls, daily.tool_errors) == (60, 30)
    assert daily.cost == pytest.approx(0.3)
    assert (day.tokens, day.max_run_tokens, day.messages) == (300, 10, 30)
    assert len(runs) == 30


async def test_two_instances_at_the_message_limit_admit_exactly_one(instances: Instances) -> None:
    first, second = instances(2)
    await set_budget(first, "user", "u1", messages_per_day=3)
    assert isinstance(await attempt(first), Admission)
    assert isinstance(await attempt(second), Admission)
    answers = await asyncio.gather(*(attempt(store) for store in [first, second] * 3))
    assert sum(isinstance(a, Admission) for a in answers) == 1
    refused = [a for a in answers if isinstance(a, QuotaExceeded)]
    assert {r.limit for r in refused} == {"messages_per_day"}


async def test_at_the_token_edge_at_most_one_run_goes_over(instances: Instances) -> None:
    first, second = instances(2)
    await set_budget(first, "user", "u1", tokens_per_day=100)
    await record(first, tally(0, tokens=95))  # 95 of 100 used; the largest run took 95
    answers = await asyncio.gather(*(attempt(store) for store in [first, second] * 4))
    assert sum(isinstance(a, Admission) for a in answers) == 1
    assert {a.limit for a in answers if isinstance(a, QuotaExceeded)} == {"tokens_per_day"}


async def test_a_user_exactly_at_the_limit_is_refused_naming_it(instances: Instances) -> None:
    (store,) = instances(1)
    await set_budget(store, "role", "user", tokens_per_day=100, messages_per_day=50)
    await record(store, tally(0, tokens=100))
    refusal = await attempt(store)
    assert isinstance(refusal, QuotaExceeded)
    assert refusal.limit == "tokens_per_day"
    tomorrow = utcnow().date() + timedelta(days=1)
    assert refusal.resets_at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC)
    assert refusal.detail()["resets_at"].endswith("T00:00:00Z")


async def test_a_budget_change_applies_at_once_on_every_instance(instances: Instances) -> None:
    first, second = instances(2)
    await record(first, tally(0))  # a message before any budget counts on its day
    free = await attempt(second)
    assert isinstance(free, Admission)
    assert not free.counted  # no budget: nothing counted
    await set_budget(first, "user", "u1", messages_per_day=2)
    assert isinstance(await attempt(second), Admission)
    assert isinstance(await attempt(second), QuotaExceeded)


async def test_a_run_that_crosses_midnight_counts_on_the_day_it_started(
    instances: Instances,
) -> None:
    (store,) = instances(1)
    t = tally(0)
    t.started_at = datetime(2026, 3, 31, 23, 59, 59, 900000, tzinfo=UTC)
    await record(store, t)  # finished "now", days later
    async with store.db() as session:
        daily = (await session.execute(select(UsageDaily))).scalars().one()
    assert daily.day == date(2026, 3, 31)
    assert resets_at("tokens_per_month", daily.day) == datetime(2026, 4, 1, tzinfo=UTC)
    assert resets_at("cost_per_day", daily.day) == datetime(2026, 4, 1, tzinfo=UTC)


async def test_a_model_without_a_price_is_recorded_as_unpriced(
    instances: Instances, make_settings: object
) -> None:
    (store,) = instances(1)
    await record(store, tally(0), cost=None)
    await record(store, tally(1), cost=0.5)
    async with store.db() as session:
        daily = (await session.execute(select(UsageDaily))).scalars().one()
        usage = await session.get(RunUsage, "run-0")
    assert (daily.runs, daily.unpriced_runs, daily.cost) == (2, 1, 0.5)
    assert usage is not None
    assert usage.cost is None


def test_prices_per_provider(make_settings: object) -> None:
    settings = make_settings()  # type: ignore[operator]
    assert price_for(settings, "openai") is None
    assert price_for(settings, "builtin") is not None
    priced = make_settings(OPENAI_PRICE_INPUT="0.15", OPENAI_PRICE_OUTPUT="0.6")  # type: ignore[operator]
    price = price_for(priced, "openai")
    assert price is not None
    assert price.cost(1_000_000, 1_000_000) == pytest.approx(0.75)


def test_a_catalog_price_comes_first_and_the_settings_price_the_one_model_catalog(
    make_settings: object,
) -> None:
    priced = make_settings(  # type: ignore[operator]
        AGENT_PROVIDER="openai",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        OPENAI_PRICE_INPUT="0.15",
        OPENAI_PRICE_OUTPUT="0.6",
    )
    catalog_price = price_for(priced, "openai", 2.0, 8.0)
    assert catalog_price is not None
    assert catalog_price.cost(1_000_000, 1_000_000) == pytest.approx(10.0)
    # A local model the catalog prices is not free.
    local = price_for(priced, "local", 1.0)
    assert local is not None
    assert local.cost(1_000_000, 1_000_000) == pytest.approx(1.0)
    (entry,) = legacy_catalog(priced).models
    assert (entry.price_in, entry.price_out) == (0.15, 0.6)


def test_a_users_own_limit_overrides_and_the_most_generous_role_applies() -> None:
    staff = Limits(tokens_per_day=1000, messages_per_day=10)
    user = Limits(tokens_per_day=100, cost_per_day=1.0)
    assert effective(None, [staff, user]).tokens_per_day == 1000
    # A role without a messages limit leaves its members without one.
    assert effective(None, [staff, user]).messages_per_day is None
    own = Limits(tokens_per_day=5)
    assert effective(own, [staff]).tokens_per_day == 5
    assert effective(own, [staff]).messages_per_day == 10
    assert not effective(None, []).any


def test_a_fallback_models_agent_started_is_the_model_the_run_used() -> None:
    tally = RunTally("u", "thread", "run", provider="openai", model="big")
    tally.observe(AgentStarted(provider="local", model="small"))
    assert (tally.provider, tally.model) == ("local", "small")
    tally.observe(AgentStarted(provider="builtin", model=None))
    assert (tally.provider, tally.model) == ("builtin", "small")
