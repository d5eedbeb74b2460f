"""A backend killed (SIGKILL) in the middle of a burst loses no acknowledged event: 50
users send messages to instance A with a slow scripted agent, A dies mid-burst, and
through instance B (whose sweeper fails A's runs once their leases expire) every
acknowledged message has a complete, gap-free run or one that ended with `agent_error`;
every thread's seqs are gap-free and every event a client was sent is in the log as sent
(persisted before sent, with the event writer grouping A's commits)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.chat import Server, wait_run
from tests.support.instances import two_backends

pytestmark = pytest.mark.slow  # three processes and 50 accounts: ~40 s on a busy machine

USERS = 50
TERMINAL = ("agent_completed", "agent_error")
WORDS = " ".join(f"w{n}" for n in range(12))  # `slow`: 12 deltas 50 ms apart


class Sender:
    """One user with a thread on A, sending a message after each answer until A dies."""

    def __init__(self, name: str, thread_id: str, token: str) -> None:
        self.name, self.thread_id, self.token = name, thread_id, token
        self.acked: list[str] = []  # run ids the server acknowledged
        self.received: list[dict[str, Any]] = []  # every event frame sent to us

    async def run(self, a: Server) -> None:
        url = a.ws_url
        try:
            async with websockets.connect(
                url,
                subprotocols=["netra.v1", f"bearer.{self.token}"],  # type: ignore[list-item]
            ) as ws:
                n = 0
                while True:
                    n += 1
                    await ws.send(
                        json.dumps(
                            {
                                "type": "send_message",
                                "id": f"m{n}",
                                "thread_id": self.thread_id,
                                "text": f"slow {n} {WORDS}",
                            }
                        )
                    )
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "ack" and frame["payload"].get("id") == f"m{n}":
                            self.acked.append(frame["run_id"])
                        elif frame.get("seq") is not None:
                            self.received.append(frame)
                            if frame["type"] in TERMINAL:
                                break
        except (ConnectionClosed, OSError):
            return  # A was killed


async def log_of(b: Server, user: str, thread_id: str) -> list[dict[str, Any]]:
    async with b.http(user) as client:
        events: list[dict[str, Any]] = []
        while True:
            after = events[-1]["seq"] if events else 0
            page = await client.get(f"/api/threads/{thread_id}/events?after_seq={after}")
            assert page.status_code == 200, page.text
            items = page.json()["items"]
            if not items:
                return events
            events += items


def check_run(run_id: str, events: list[dict[str, Any]]) -> None:
    mine = [e for e in events if e["run_id"] == run_id]
    kinds = [e["type"] for e in mine]
    assert kinds, run_id
    assert kinds[0] == "agent_started", (run_id, kinds)
    assert kinds[-1] in TERMINAL, (run_id, kinds)
    assert sum(k in TERMINAL for k in kinds) == 1, (run_id, kinds)
    if kinds[-1] == "agent_completed":  # complete: its deltas add up to its answer
        text = "".join(e["payload"]["text"] for e in mine if e["type"] == "message_delta")
        assert text == mine[-1]["payload"]["text"], run_id


async def test_sigkill_mid_burst_loses_no_acknowledged_event(tmp_path: Path) -> None:
    async with two_backends(tmp_path, RUN_LEASE="3") as (a, b):
        assert a.process is not None
        senders = []
        for i in range(USERS):
            name = f"burst{i}"
            async with a.http(name) as client:
                made = await client.post("/api/threads", json={"title": "burst"})
                assert made.status_code == 201, made.text
            senders.append(Sender(name, made.json()["id"], await a.users.token(name)))
        burst = [asyncio.create_task(s.run(a)) for s in senders]
        started = time.monotonic()
        # Mid-burst: once every user was answered at least once and more is under way.
        while sum(len(s.acked) for s in senders) < 2 * USERS:
            assert time.monotonic() - started < 120, "the burst did not get going"
            await asyncio.sleep(0.05)
        a.process.process.kill()
        await asyncio.wait_for(asyncio.gather(*burst), 30)

        acked = sum(len(s.acked) for s in senders)
        completed = errors = 0
        for s in senders:
            for run_id in s.acked:  # B's sweeper ends A's runs once their leases expire
                run = await wait_run(b, s.name, run_id, timeout=30)
                completed += run["status"] == "completed"
            log = await log_of(b, s.name, s.thread_id)
            assert [e["seq"] for e in log] == list(range(1, len(log) + 1)), s.name
            for run_id in s.acked:
                check_run(run_id, log)
            errors += sum(e["type"] == "agent_error" for e in log)
            by_seq = {e["seq"]: e for e in log}
            for frame in s.received:  # sent, so persisted first: the log has it as sent
                kept = by_seq.get(frame["seq"])
                assert kept is not None, frame
                assert (kept["type"], kept["run_id"], kept["payload"]) == (
                    frame["type"],
                    frame["run_id"],
                    frame["payload"],
                )
        # Every user was answered once before the kill; runs cut by it ended in errors.
        assert completed >= USERS, (acked, completed, errors)
        assert errors >= 1, (acked, completed, errors)
