"""Each instance renews the leases of its runs (running or waiting for a worker) and
fails runs whose lease expired: their instance crashed (docs/architecture.md, decision
on run ownership). Paused runs hold no lease; their approvals time out here too."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy import update

from netra.agents.events import AgentError
from netra.chat.models import ACTIVE, LEASED, Run
from netra.chat.run_end import RUN_AND_OWNER
from netra.chat.write_group import lock_runs
from netra.db.base import utcnow

if TYPE_CHECKING:
    from netra.chat.runs import RunManager

log = logging.getLogger("netra.chat.runs")


class Leases:
    def __init__(self, runs: RunManager) -> None:
        self.runs = runs

    async def maintain(self) -> None:
        """Renew this instance's leases, fail runs whose lease expired and decline
        approvals past their timeout, forever."""
        settings = self.runs.settings
        interval = min(settings.run_lease, settings.approval_timeout) / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
                await self.sweep()
                await self.runs.approvals.expire_due()
            except Exception:
                log.exception("run lease maintenance failed; retrying")

    async def renew(self) -> None:
        runs = self.runs
        mine = [*runs.tasks, *runs.queue.run_ids()]  # a waiting run is this instance's too
        if not mine:
            return
        async with runs.db.begin() as session:
            # Locked first in id order, as the event writer's groups lock runs: an UPDATE
            # of many ids may take them in the table's order, and deadlock with a group.
            status = await lock_runs(session, mine)
            live = sorted(run_id for run_id, state in status.items() if state in ACTIVE)
            if live:
                await session.execute(
                    update(Run).where(Run.id.in_(live)).values(lease_expires_at=runs.lease_until())
                )

    async def sweep(self) -> int:
        """Fail every leased run whose lease expired (a waiting run holds none); returns
        how many."""
        runs = self.runs
        async with runs.db() as session:
            expired = Run.status.in_(LEASED), Run.lease_expires_at < utcnow()
            orphans = list((await session.execute(RUN_AND_OWNER.where(*expired))).all())
        for run, user_id in orphans:
            if run.id in runs.tasks or run.id in runs.queue:
                continue
            error = AgentError(
                reason="the server running this answer stopped; send the message again",
                code="internal",
            )
            await runs.finish(
                run.id, run.thread_id, error, meter=runs.meters.for_orphan(run, user_id)
            )
        return len(orphans)
