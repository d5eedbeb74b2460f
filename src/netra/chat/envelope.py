"""The server → client message about a thread, as the event log stores and numbers it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from netra import jsontext
from netra.agents.events import AgentEvent
from netra.chat.models import run_events_table


@dataclass(frozen=True)
class Envelope:
    """One server → client message about a thread: `{type, thread_id, run_id, seq, ts,
    payload}`; `frame` is its JSON text, encoded once however many clients receive it."""

    type: str
    thread_id: str
    run_id: str
    seq: int
    ts: datetime
    payload: dict[str, Any]
    frame: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", jsontext.dumps(self.as_dict()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "thread_id": self.thread_id,
            "run_id": self.run_id,
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "payload": self.payload,
        }


def split_event(event: AgentEvent) -> tuple[str, dict[str, Any]]:
    """The event's type and its payload (every other field)."""
    data = event.model_dump(mode="json")
    return data.pop("type"), data


def numbered_envelopes(
    thread_id: str, run_id: str, events: Sequence[AgentEvent], first: int, now: datetime
) -> list[Envelope]:
    """`events` numbered from seq `first`."""
    envelopes = []
    for offset, event in enumerate(events):
        kind, payload = split_event(event)
        envelopes.append(Envelope(kind, thread_id, run_id, first + offset, now, payload))
    return envelopes


async def insert_envelopes(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    """Every row in one statement (executemany); none, no statement."""
    if not envelopes:
        return
    await session.execute(
        _INSERT_EVENTS,
        [
            {
                "thread_id": e.thread_id,
                "seq": e.seq,
                "run_id": e.run_id,
                "type": e.type,
                "payload": e.payload,
                "ts": e.ts,
            }
            for e in envelopes
        ],
    )


_INSERT_EVENTS = insert(run_events_table)
