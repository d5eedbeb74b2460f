"""`/api/usage` (a user's own), `/api/admin/usage` (everyone's, CSV too) and
`/api/admin/budgets` (per user and per role)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from netra.chat.errors import AdminsOnly
from netra.chat.routes.deps import Backend, Reader, Writer
from netra.db.base import utcnow
from netra.errors import BadRequest
from netra.tokens import Principal
from netra.usage.budgets import LIMITS, BudgetIn, Limits
from netra.usage.models import Budget
from netra.usage.reports import GroupBy, UsageQuery, as_csv, totals, usage_rows

router = APIRouter(tags=["usage"])
# A report reads at most this many days of aggregates.
MAX_DAYS = 400
DEFAULT_DAYS = 30
NAME = r"^[A-Za-z0-9._:@-]{1,100}$"


async def admin(user: Writer) -> Principal:
    """An admin with a full-access credential (an API key needs the `chat` scope)."""
    if not user.is_admin:
        raise AdminsOnly
    return user


Admin = Annotated[Principal, Depends(admin)]
From = Annotated[date | None, Query(alias="from", description="First day (UTC), YYYY-MM-DD")]
To = Annotated[date | None, Query(alias="to", description="Last day (UTC), included")]


def period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or utcnow().date()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise BadRequest(f"from ({start}) is after to ({end})", reason="bad_period")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"a report covers at most {MAX_DAYS} days", reason="bad_period")
    return start, end


def report(query: UsageQuery, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "from": query.start.isoformat(),
        "to": query.end.isoformat(),
        "group_by": query.group_by,
        "items": items,
        "totals": totals(items),
    }


@router.get("/api/usage", summary="Your own usage, per day or per model", response_model=None)
async def own_usage(
    backend: Backend,
    user: Reader,
    start: From = None,
    end: To = None,
    group_by: Literal["day", "model"] = "day",
) -> JSONResponse:
    first, last = period(start, end)
    query = UsageQuery(first, last, group_by, user_id=user.subject)
    return JSONResponse(report(query, await usage_rows(backend.runtime.db, query)))


@router.get(
    "/api/admin/usage", summary="Everyone's usage (admins), as JSON or CSV", response_model=None
)
async def all_usage(  # noqa: PLR0917 (query parameters)
    backend: Backend,
    _: Admin,
    user_id: Annotated[str | None, Query(max_length=36)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    start: From = None,
    end: To = None,
    group_by: GroupBy = "day",
    format: Literal["json", "csv"] = "json",
) -> Response:
    first, last = period(start, end)
    query = UsageQuery(first, last, group_by, user_id=user_id, model=model)
    items = await usage_rows(backend.runtime.db, query)
    if format == "csv":
        filename = f"netra-usage-{first}-{last}.csv"
        return Response(
            as_csv(items, group_by),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    # Plain JSON values already: FastAPI's encoder would only walk them again, slowly.
    return JSONResponse(report(query, items))


def _budget_out(row: Budget) -> dict[str, Any]:
    return {
        "scope": row.scope,
        "name": row.name,
        **Limits.of(row).as_dict(),
        "updated_at": row.updated_at.isoformat(),
    }


@router.get("/api/admin/budgets", summary="Every budget, per user and per role (admins)")
async def list_budgets(backend: Backend, _: Admin) -> dict[str, Any]:
    async with backend.runtime.db() as session:
        rows = await session.execute(select(Budget).order_by(Budget.scope, Budget.name))
        budgets = [_budget_out(row) for row in rows.scalars()]
    return {
        "users": [b for b in budgets if b["scope"] == "user"],
        "roles": [b for b in budgets if b["scope"] == "role"],
    }


async def _put(backend: Backend, scope: str, name: str, body: BudgetIn) -> dict[str, Any]:
    """Set the limits named in the body (null removes one); applies to the next run on
    every instance, which reads budgets when it admits a run."""
    try:
        return await _write(backend, scope, name, body)
    except IntegrityError:  # created meanwhile by another request: now it exists
        return await _write(backend, scope, name, body)


async def _write(backend: Backend, scope: str, name: str, body: BudgetIn) -> dict[str, Any]:
    async with backend.runtime.db.begin() as session:
        row = await session.get(Budget, (scope, name), with_for_update=True)
        if row is None:
            row = Budget(scope=scope, name=name, **dict.fromkeys(LIMITS))
            session.add(row)
        for field in body.model_fields_set:
            setattr(row, field, getattr(body, field))
        row.updated_at = utcnow()
        if not Limits.of(row).any:
            await session.delete(row)
            return {"scope": scope, "name": name, **Limits().as_dict(), "updated_at": None}
        await session.flush()
        return _budget_out(row)


@router.put("/api/admin/budgets/users/{user_id}", summary="Set a user's budget (admins)")
async def put_user_budget(
    backend: Backend,
    _: Admin,
    user_id: Annotated[str, Path(pattern=NAME)],
    body: BudgetIn,
) -> dict[str, Any]:
    return await _put(backend, "user", user_id, body)


@router.put("/api/admin/budgets/roles/{role}", summary="Set a role's budget (admins)")
async def put_role_budget(
    backend: Backend,
    _: Admin,
    role: Annotated[str, Path(pattern=NAME)],
    body: BudgetIn,
) -> dict[str, Any]:
    return await _put(backend, "role", role, body)
