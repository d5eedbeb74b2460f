"""The rollout's gate: `netra smoke` against a revision's URLs (NetraSmoke, the default),
or a command of the environments file that answers in the `netra smoke --json` shape:
{"ok", "steps": [{"name", "ok", "duration_ms", "error"}]} (CommandGate)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from netra.settings import Service


@dataclass(frozen=True)
class SmokeStep:
    name: str
    ok: bool
    duration_ms: float
    error: str | None = None


@dataclass
class SmokeResult:
    ok: bool
    steps: list[SmokeStep] = field(default_factory=list)

    @property
    def failed(self) -> SmokeStep | None:
        return next((step for step in self.steps if not step.ok), None)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "steps": [asdict(step) for step in self.steps]}

    @classmethod
    def parse(cls, text: str) -> SmokeResult:
        data = json.loads(text)
        steps = [
            SmokeStep(s["name"], bool(s["ok"]), float(s.get("duration_ms", 0)), s.get("error"))
            for s in data["steps"]
        ]
        return cls(bool(data["ok"]) and all(s.ok for s in steps), steps)


class SmokeGate(Protocol):
    def describe(self, urls: dict[Service, str]) -> str: ...

    def check(self, urls: dict[Service, str]) -> SmokeResult: ...


def netra_command() -> list[str]:
    """This installation's `netra`, whatever the PATH of the caller."""
    script = Path(sys.executable).with_name("netra")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from netra.cli import main; main()"]


@dataclass
class NetraSmoke:
    """The default gate: `netra smoke` (its `run_smoke`, with the account SMOKE_EMAIL
    names, else a fresh one) run in this process, which spares each check a Python
    start and the package import: seconds per check (docs/deploy.md)."""

    timeout: float = 30.0

    def describe(self, urls: dict[Service, str]) -> str:
        return f"netra smoke {urls[Service.BACKEND]} --auth-url {urls[Service.AUTH]}"

    def check(self, urls: dict[Service, str]) -> SmokeResult:
        from netra.client.smoke import SmokeCredentials, run_smoke  # noqa: PLC0415
        from netra.settings import client_settings  # noqa: PLC0415

        credentials = SmokeCredentials.configured(client_settings())
        smoke = run_smoke(
            urls[Service.BACKEND], urls[Service.AUTH], credentials, timeout=self.timeout
        )
        # A loop of its own in a thread of its own: safe whether or not the caller is
        # inside an event loop (docs/incidents.md I-2).
        with ThreadPoolExecutor(1, thread_name_prefix="netra-smoke") as pool:
            report = pool.submit(asyncio.run, smoke).result()
        steps = [SmokeStep(s.name, s.ok, s.duration_ms, s.error) for s in report.steps]
        return SmokeResult(report.ok, steps)


@dataclass
class CommandGate:
    """Runs `argv` with `{auth}`/`{backend}` expanded; a command that does not answer in
    the smoke JSON shape is a failed gate, never a passed one."""

    argv: Sequence[str]
    timeout: float = 120.0

    def expand(self, urls: dict[Service, str]) -> list[str]:
        return [
            arg.format(auth=urls[Service.AUTH], backend=urls[Service.BACKEND]) for arg in self.argv
        ]

    def describe(self, urls: dict[Service, str]) -> str:
        return " ".join(self.expand(urls))

    def check(self, urls: dict[Service, str]) -> SmokeResult:
        argv = self.expand(urls)
        started = time.perf_counter()
        try:
            done = subprocess.run(  # noqa: S603 (the environments file's command)
                argv, capture_output=True, text=True, timeout=self.timeout, check=False, env={}
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return _broken(argv[0], started, str(exc))
        try:
            return SmokeResult.parse(done.stdout)
        except (ValueError, KeyError, TypeError):
            tail = (done.stderr or done.stdout).strip()[-400:]
            return _broken(argv[0], started, f"exit {done.returncode}, no smoke JSON: {tail}")


def _broken(name: str, started: float, error: str) -> SmokeResult:
    elapsed = (time.perf_counter() - started) * 1000
    return SmokeResult(False, [SmokeStep(f"run {Path(name).name}", False, elapsed, error)])


def readiness(urls: dict[Service, str], timeout: float = 5.0) -> SmokeResult:
    """`/health/ready` of each service, a step per service naming any failing check."""
    steps = []
    with httpx.Client(timeout=timeout) as client:
        for service, url in urls.items():
            started = time.perf_counter()
            error: str | None = None
            try:
                answer = client.get(f"{url.rstrip('/')}/health/ready")
                if answer.status_code != 200:
                    error = f"{answer.status_code}: {_failing(answer)}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            elapsed = (time.perf_counter() - started) * 1000
            steps.append(SmokeStep(f"{service.value} ready", error is None, elapsed, error))
    return SmokeResult(all(step.ok for step in steps), steps)


def _failing(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    failing = [
        f"{name}: {check.get('output', '')}"
        for name, check in body.get("checks", {}).items()
        if check.get("status") == "fail"
    ]
    return "; ".join(failing) or str(body.get("output", "not ready"))
