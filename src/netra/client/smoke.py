"""`netra smoke URL`: the golden path against a running deployment, as a user walks it.

Liveness and readiness of both services → sign in (creating the smoke user on first use
where registration is open) → create a thread → open /ws → send a message → receive the
agent's events in order, with the answer → reconnect after a seq and receive exactly the
rest → refresh the token → log out → the old refresh token is refused. Each step is timed;
the first failure stops the run and names the step, the URL, the status or close code and
the server's message. Safe inside a running event loop (no asyncio.run here).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from netra.client.client import NetraClient
from netra.client.errors import NetraError

if TYPE_CHECKING:
    from netra.settings import Settings

QUESTION = "what is 17 * 23?"
ANSWER = "391"
EXPECTED_ORDER = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)


class StepFailed(Exception):
    """A step's failure in words: what was asked of which URL, and what came back."""


@dataclass
class Step:
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None
    detail: str | None = None


@dataclass
class SmokeReport:
    url: str
    auth_url: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def failed(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "url": self.url,
            "auth_url": self.auth_url,
            "steps": [asdict(step) for step in self.steps],
        }


@dataclass(frozen=True)
class SmokeCredentials:
    email: str
    password: str
    create: bool = True

    @classmethod
    def configured(cls, settings: Settings) -> SmokeCredentials | None:
        """The smoke account of SMOKE_EMAIL and SMOKE_PASSWORD, when both are set."""
        if settings.smoke_email and settings.smoke_password:
            return cls(settings.smoke_email, settings.smoke_password.get_secret_value())
        return None

    @classmethod
    def ephemeral(cls) -> SmokeCredentials:
        """A fresh user for this run, for deployments with no smoke user configured."""
        tag = secrets.token_hex(6)
        return cls(f"smoke-{tag}@smoke.netra.invalid", secrets.token_urlsafe(24), True)


StepCallback = Callable[[Step], None]


async def _health(http: httpx.AsyncClient, url: str) -> str:
    try:
        response = await http.get(url)
    except httpx.HTTPError as exc:
        raise StepFailed(f"GET {url}: {type(exc).__name__}: {exc or 'no answer'}") from None
    kind = response.headers.get("content-type", "")
    if "json" not in kind:
        raise StepFailed(
            f"GET {url} answered {response.status_code} with {kind or 'no type'}"
            " (HTML?), not Netra's health JSON: is the URL right?"
        )
    body = response.json()
    if response.status_code != 200:
        failing = [
            f"{name}: {check.get('output')}"
            for name, check in body.get("checks", {}).items()
            if check.get("status") == "fail"
        ]
        reason = "; ".join(failing) or body.get("output") or body.get("status")
        raise StepFailed(f"GET {url} answered {response.status_code}: {reason}")
    return str(body.get("status"))


class Smoke:
    def __init__(
        self, url: str, auth_url: str | None, credentials: SmokeCredentials, timeout: float = 30.0
    ) -> None:
        self.url = url.rstrip("/")
        self.auth_url = (auth_url or url).rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.client = NetraClient(self.url, auth_url=self.auth_url, timeout=timeout)
        self.thread_id = ""
        self.events: list[dict[str, Any]] = []
        self.old_refresh: str | None = None

    async def run(self, on_step: StepCallback | None = None) -> SmokeReport:
        report = SmokeReport(self.url, self.auth_url)
        steps: list[tuple[str, Callable[[], Awaitable[str | None]]]] = [
            ("backend liveness", lambda: _health(self.client.http, f"{self.url}/health")),
            ("backend readiness", lambda: _health(self.client.http, f"{self.url}/health/ready")),
        ]
        if self.auth_url != self.url:
            steps += [
                ("auth liveness", lambda: _health(self.client.http, f"{self.auth_url}/health")),
                (
                    "auth readiness",
                    lambda: _health(self.client.http, f"{self.auth_url}/health/ready"),
                ),
            ]
        steps += [
            ("sign in", self.sign_in),
            ("create thread", self.create_thread),
            ("agent run over /ws", self.agent_run),
            ("resume after reconnect", self.resume),
            ("refresh token", self.refresh),
            ("log out", self.logout),
            ("old refresh token refused", self.old_token_refused),
        ]
        try:
            for name, action in steps:
                step = await self._timed(name, action)
                report.steps.append(step)
                if on_step is not None:
                    on_step(step)
                if not step.ok:
                    break
        finally:
            await self.client.aclose()
        return report

    async def _timed(self, name: str, action: Callable[[], Awaitable[str | None]]) -> Step:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                detail = await action()
        except StepFailed as exc:
            return Step(name, False, _ms(started), str(exc))
        except NetraError as exc:
            return Step(name, False, _ms(started), f"{exc.status} {exc.reason}: {exc.message}")
        except TimeoutError:
            return Step(name, False, _ms(started), f"no answer within {self.timeout:g}s")
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else 1006
            reason = closed.rcvd.reason if closed.rcvd else "connection lost"
            return Step(name, False, _ms(started), f"{self.client.ws_url} closed {code}: {reason}")
        except (httpx.HTTPError, OSError) as exc:
            return Step(name, False, _ms(started), f"{type(exc).__name__}: {exc}")
        return Step(name, True, _ms(started), None, detail)

    async def sign_in(self) -> str:
        email, password = self.credentials.email, self.credentials.password
        try:
            await self.client.sign_in(email, password)
            return "signed in"
        except NetraError as exc:
            if exc.status != 401 or not self.credentials.create:
                raise
        try:
            await self.client.register(email, password)
        except NetraError as exc:
            raise StepFailed(
                f"sign-in refused and the smoke user could not be created: "
                f"{exc.status} {exc.reason}: {exc.message}"
            ) from None
        await self.client.sign_in(email, password)
        return "created the smoke user and signed in"

    async def create_thread(self) -> str:
        self.thread_id = (await self.client.create_thread("netra smoke")).id
        return self.thread_id

    async def _connect(self) -> ClientConnection:
        try:
            return await self.client.connect()
        except InvalidHandshake as exc:
            raise StepFailed(
                f"WebSocket handshake with {self.client.ws_url} refused: {exc}"
            ) from None

    async def _receive(self, ws: ClientConnection) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(await ws.recv())
        if data["type"] == "error":
            payload = data["payload"]
            raise StepFailed(
                f"{payload.get('request')}: {payload.get('code')}: {payload.get('message')}"
            )
        return data

    async def agent_run(self) -> str:
        async with await self._connect() as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "send_message",
                        "thread_id": self.thread_id,
                        "text": QUESTION,
                        "id": "smoke",
                    }
                )
            )
            while True:
                data = await self._receive(ws)
                if data.get("seq") is None:
                    continue
                self.events.append(data)
                if data["type"] in ("agent_completed", "agent_error"):
                    break
        types = [event["type"] for event in self.events]
        if types[-1] == "agent_error":
            raise StepFailed(f"the agent failed: {self.events[-1]['payload'].get('reason')}")
        _check_order(types)
        answer = str(self.events[-1]["payload"].get("text", ""))
        if ANSWER not in answer:
            raise StepFailed(f"the answer to {QUESTION!r} does not contain {ANSWER}: {answer!r}")
        return f"{len(types)} events, answer: {answer[:80]}"

    async def resume(self) -> str:
        """Reconnect after the first event and receive exactly the rest: no gap, no copy."""
        after = self.events[0]["seq"]
        expected = [event["seq"] for event in self.events[1:]]
        got: list[int] = []
        async with await self._connect() as ws:
            await ws.send(
                json.dumps({"type": "subscribe", "thread_id": self.thread_id, "after_seq": after})
            )
            while len(got) < len(expected):
                data = await self._receive(ws)
                if data.get("seq") is not None:
                    got.append(data["seq"])
        if got != expected:
            raise StepFailed(f"after seq {after} expected {expected}, received {got}")
        return f"replayed seq {expected[0]}..{expected[-1]}"

    async def refresh(self) -> str:
        assert self.client.tokens is not None
        self.old_refresh = self.client.tokens.refresh_token
        await self.client.refresh()
        return "rotated"

    async def logout(self) -> str:
        await self.client.logout()
        return "session ended"

    async def old_token_refused(self) -> str:
        response = await self.client.http.post(
            f"{self.auth_url}/auth/refresh", json={"refresh_token": self.old_refresh}
        )
        if response.status_code != 401:
            raise StepFailed(
                f"POST {self.auth_url}/auth/refresh with a used refresh token "
                f"answered {response.status_code}, expected 401"
            )
        return "401 as expected"


def _check_order(types: list[str]) -> None:
    position = 0
    for kind in types:
        if position < len(EXPECTED_ORDER) and kind == EXPECTED_ORDER[position]:
            position += 1
    if position < len(EXPECTED_ORDER):
        raise StepFailed(
            f"expected {' → '.join(EXPECTED_ORDER)} in order; received {', '.join(types)}"
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def run_smoke(
    url: str,
    auth_url: str | None = None,
    credentials: SmokeCredentials | None = None,
    *,
    on_step: StepCallback | None = None,
    timeout: float = 30.0,
) -> SmokeReport:
    """Walk the golden path against `url` (and `auth_url` when the services are apart)."""
    runner = Smoke(url, auth_url, credentials or SmokeCredentials.ephemeral(), timeout)
    return await runner.run(on_step)
