"""Admitting runs against budgets and recording what they used, atomically on SQLite and
PostgreSQL across any number of backend instances.

Admission is one upsert of the user's day row whose update only happens WHERE there is
room: the database serialises two instances admitting at once, so a messages limit is
never passed and, while a run is in flight, another is admitted only if the user stays
under each token and cost limit by at least their largest run of the day (so at the edge
at most one run goes over, stopped after the model call that crossed). Recording adds
the run to the aggregates with `INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x`:
no read-modify-write, no lost update.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.db.base import utcnow
from netra.db.lists import in_list
from netra.tokens import Principal
from netra.usage.budgets import LimitName, Limits, QuotaExceeded, effective, month_start, resets_at
from netra.usage.models import Budget, UserDay
from netra.usage.records import run_rows, write_usage
from netra.usage.tally import RunTally

# Seconds the dashboard's history may be old: its finest chart is per minute.
DASHBOARD_TTL = 10.0
ZERO_DAY = {"messages": 0, "tokens": 0, "cost": 0.0, "in_flight": 0}
ZERO_DAY |= {"max_run_tokens": 0, "max_run_cost": 0.0}


def _insert(session: AsyncSession, table: Any) -> postgresql.Insert:
    """INSERT with ON CONFLICT, in the session's dialect (SQLite's takes the same
    arguments as PostgreSQL's)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return cast(postgresql.Insert, sqlite.insert(table))


@dataclass(frozen=True)
class Spent:
    """What a user has used on a day and in its month."""

    messages: int
    tokens_day: int
    cost_day: float
    tokens_month: int
    cost_month: float
    in_flight: int
    max_run_tokens: int
    max_run_cost: float


@dataclass(frozen=True)
class Admission:
    """A run let in: its day, the user's limits and what they had used by then;
    `counted` when a budget applied (the run holds a place in flight)."""

    day: date
    limits: Limits
    spent: Spent
    email: str | None = None
    counted: bool = True

    def crossed(self, tokens: int, cost: float) -> QuotaExceeded | None:
        """The limit this run has reached, having used `tokens` and `cost` so far."""
        limits, spent = self.limits, self.spent
        checks: list[tuple[LimitName, float | None, float]] = [
            ("tokens_per_day", limits.tokens_per_day, spent.tokens_day + tokens),
            ("tokens_per_month", limits.tokens_per_month, spent.tokens_month + tokens),
            ("cost_per_day", limits.cost_per_day, spent.cost_day + cost),
            ("cost_per_month", limits.cost_per_month, spent.cost_month + cost),
        ]
        for name, limit, used in checks:
            if limit is not None and used >= limit:
                return QuotaExceeded(name, limit, resets_at(name, self.day))
        return None


NOTHING_SPENT = Spent(0, 0, 0.0, 0, 0.0, 0, 0, 0.0)


class Recent:
    """A value read at most once per `ttl` seconds, however many ask at once (the
    dashboard's history: many admins, or one reloading, cost one read)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._value: tuple[float, Any] | None = None
        self._lock = asyncio.Lock()

    async def get(self, read: Callable[[], Awaitable[Any]]) -> Any:
        async with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._value[0] >= self.ttl:
                self._value = (now, await read())
            return self._value[1]


class UsageStore:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db
        # The dashboard's history (per minute, per day, top users...) on this instance.
        self.history = Recent(ttl=DASHBOARD_TTL)

    async def limits_for(self, session: AsyncSession, user: Principal) -> Limits:
        """The user's effective limits, read now (a change applies at once everywhere)."""
        key = (user.subject, tuple(sorted(user.roles)))
        return (await self.limits_of(session, [key]))[key]

    @staticmethod
    async def limits_of(
        session: AsyncSession, users: Sequence[tuple[str, tuple[str, ...]]]
    ) -> dict[tuple[str, tuple[str, ...]], Limits]:
        """The effective limits of several users ((id, roles) each), in one read."""
        names = sorted({user_id for user_id, _ in users})
        roles = sorted({role for _, held in users for role in held})
        rows = await session.execute(_BUDGETS_OF, {"b_users": names, "b_roles": roles})
        own: dict[str, Limits] = {}
        of_role: dict[str, Limits] = {}
        for budget in rows.scalars():
            (own if budget.scope == "user" else of_role)[budget.name] = Limits.of(budget)
        return {
            (user_id, held): effective(own.get(user_id), [of_role[r] for r in held if r in of_role])
            for user_id, held in users
        }

    async def admit(self, user: Principal, limits: Limits | None = None) -> Admission:
        """Count one message and one run in flight against the user's budgets (nothing
        is counted when none applies); `QuotaExceeded` naming the first limit reached.
        `limits`: the user's, read just now; when none applies, nothing is read again.

        One upsert: a new day row is the first message of the day; an existing one is
        counted only if the room conditions hold on it, as the database sees it."""
        day = utcnow().date()
        if limits is not None and not limits.any:
            return Admission(day, limits, NOTHING_SPENT, user.email, counted=False)
        for _ in range(3):  # a refusal with room left means a run ended meanwhile: retry
            async with self.db.begin() as session:
                limits = current = await self.limits_for(session, user)
                if not current.any:
                    return Admission(day, current, NOTHING_SPENT, user.email, counted=False)
                month = (0, 0.0)
                if limits.tokens_per_month is not None or limits.cost_per_month is not None:
                    month = await self._month_before(session, user.subject, day)
                spent = _spent_before(month)
                refusal = _which(current, spent, day)  # the month's earlier days, at least
                if refusal is None:
                    row = await session.execute(_admission(session, user, day, current, month))
                    counted = row.scalars().first()
                    if counted is not None:
                        return Admission(day, current, _spent(counted, month), user.email)
                    spent = await self.spent(session, user.subject, day)
                    refusal = _which(current, spent, day)
            if refusal is not None:
                raise refusal
        raise _which(current, spent, day, strict=True) or AssertionError("unreachable")

    async def release(self, user_id: str, admission: Admission) -> None:
        """Give back an admission that started no run (a repeated client_msg_id)."""
        if not admission.counted:
            return
        async with self.db.begin() as session:
            await session.execute(
                update(UserDay)
                .where(UserDay.user_id == user_id, UserDay.day == admission.day)
                .values(messages=UserDay.messages - 1, in_flight=UserDay.in_flight - 1)
            )

    async def _month_before(self, session: AsyncSession, user_id: str, day: date) -> Any:
        """Tokens and cost of the month's days before `day` (rows no run changes now)."""
        row = await session.execute(
            select(
                func.coalesce(func.sum(UserDay.tokens), 0), func.coalesce(func.sum(UserDay.cost), 0)
            ).where(UserDay.user_id == user_id, UserDay.day >= month_start(day), UserDay.day < day)
        )
        return row.one()

    async def spent(self, session: AsyncSession, user_id: str, day: date) -> Spent:
        month = await self._month_before(session, user_id, day)
        row = await session.get(UserDay, (user_id, day), populate_existing=True)
        return _spent(row if row is not None else UserDay(**ZERO_DAY), month)

    async def record(
        self,
        session: AsyncSession,
        tally: RunTally,
        *,
        status: str,
        error_code: str | None,
        cost: float | None,
        admitted: bool,
    ) -> None:
        """Store one run's usage in the caller's transaction (netra.usage.records)."""
        rows = run_rows(tally, status=status, error_code=error_code, cost=cost, admitted=admitted)
        await write_usage(session, [rows])


# Built once (every message reads it): no statement to build and key per call.
_BUDGETS_OF = select(Budget).where(
    ((Budget.scope == "user") & in_list(Budget.name, "b_users"))
    | ((Budget.scope == "role") & in_list(Budget.name, "b_roles"))
)


def _admission(
    session: AsyncSession, user: Principal, day: date, limits: Limits, month: Any
) -> Any:
    """INSERT the day's first message, or count one more where there is room; RETURNING
    the row when counted."""
    first = _insert(session, UserDay).values(
        user_id=user.subject,
        day=day,
        email=user.email,
        **ZERO_DAY | {"messages": 1, "in_flight": 1},
    )
    return (
        first.on_conflict_do_update(
            index_elements=["user_id", "day"],
            set_={
                "messages": UserDay.messages + 1,
                "in_flight": UserDay.in_flight + 1,
                "email": func.coalesce(first.excluded.email, UserDay.email),
            },
            where=and_(true(), *_room(limits, month)),
        )
        .returning(UserDay)
        .execution_options(populate_existing=True)
    )


def _spent(today: UserDay, month: Any) -> Spent:
    tokens_before, cost_before = month
    return Spent(
        messages=today.messages,
        tokens_day=today.tokens,
        cost_day=today.cost,
        tokens_month=int(tokens_before) + today.tokens,
        cost_month=float(cost_before) + today.cost,
        in_flight=today.in_flight,
        max_run_tokens=today.max_run_tokens,
        max_run_cost=today.max_run_cost,
    )


def _spent_before(month: Any) -> Spent:
    """What the month's earlier days used, with nothing yet today."""
    return _spent(UserDay(**ZERO_DAY), month)


def _room(limits: Limits, month: Any) -> list[ColumnElement[bool]]:
    """The conditions under which one more run fits (see the module's docstring)."""
    tokens_before, cost_before = month
    busy = UserDay.in_flight > 0
    conditions: list[ColumnElement[bool]] = []
    if limits.messages_per_day is not None:
        conditions.append(UserDay.messages < limits.messages_per_day)
    for used, reserve, limit in (
        (UserDay.tokens, UserDay.max_run_tokens, limits.tokens_per_day),
        (UserDay.tokens + int(tokens_before), UserDay.max_run_tokens, limits.tokens_per_month),
        (UserDay.cost, UserDay.max_run_cost, limits.cost_per_day),
        (UserDay.cost + float(cost_before), UserDay.max_run_cost, limits.cost_per_month),
    ):
        if limit is not None:
            conditions.append(used < limit)
            conditions.append(~busy | (used + reserve < limit))
    return [and_(*conditions)] if conditions else []


def _which(
    limits: Limits, spent: Spent, day: date, *, strict: bool = False
) -> QuotaExceeded | None:
    """The limit that refused a run (the first reached, or the one too close to take
    another run beside those in flight); None if every limit has room again, unless
    `strict` (then the first limit set)."""
    checks: list[tuple[LimitName, float | None, float, float]] = [
        ("messages_per_day", limits.messages_per_day, spent.messages, 0),
        ("tokens_per_day", limits.tokens_per_day, spent.tokens_day, spent.max_run_tokens),
        ("tokens_per_month", limits.tokens_per_month, spent.tokens_month, spent.max_run_tokens),
        ("cost_per_day", limits.cost_per_day, spent.cost_day, spent.max_run_cost),
        ("cost_per_month", limits.cost_per_month, spent.cost_month, spent.max_run_cost),
    ]
    for name, limit, used, reserve in checks:
        if limit is not None and (used >= limit or (spent.in_flight and used + reserve >= limit)):
            return QuotaExceeded(name, limit, resets_at(name, day))
    if not strict:
        return None
    name, limit = next((n, v) for n, v, *_ in checks if v is not None)
    return QuotaExceeded(name, limit, resets_at(name, day))
