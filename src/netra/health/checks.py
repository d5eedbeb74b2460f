"""Readiness checks: named for the golden path, run concurrently with timeouts, cached.

Components register the checks they own; `/health/ready` runs them all and answers in
the spirit of the IETF health-check draft (application/health+json).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    output: str
    observed_value: Any = None

    @classmethod
    def ok(cls, output: str, observed_value: Any = None) -> CheckResult:
        return cls(CheckStatus.PASS, output, observed_value)

    @classmethod
    def fail(cls, output: str, observed_value: Any = None) -> CheckResult:
        return cls(CheckStatus.FAIL, output, observed_value)


Probe = Callable[[], Awaitable[CheckResult]]


@dataclass
class Check:
    name: str
    probe: Probe
    required: bool = True
    timeout: float = 3.0


@dataclass
class Readiness:
    status: CheckStatus
    checks: dict[str, dict[str, Any]]

    @property
    def ready(self) -> bool:
        return self.status is not CheckStatus.FAIL

    def body(self) -> dict[str, Any]:
        return {"status": self.status.value, "checks": self.checks}


@dataclass
class HealthRegistry:
    """The checks of one process; results cached for `ttl` seconds against probe storms."""

    ttl: float = 1.0
    checks: list[Check] = field(default_factory=list)
    _cached: tuple[float, Readiness] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def register(self, check: Check) -> None:
        if any(existing.name == check.name for existing in self.checks):
            raise ValueError(f"health check {check.name!r} is registered twice")
        self.checks.append(check)

    async def readiness(self) -> Readiness:
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.ttl:
                return self._cached[1]
            results = await asyncio.gather(*(self._run(check) for check in self.checks))
            readiness = self._combine(results)
            self._cached = (time.monotonic(), readiness)
            return readiness

    def invalidate(self) -> None:
        self._cached = None

    async def _run(self, check: Check) -> tuple[Check, CheckResult, float]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(check.timeout):
                result = await check.probe()
        except TimeoutError:
            result = CheckResult.fail(f"did not answer within {check.timeout:g}s")
        except Exception as exc:  # a failing probe is a failing check, not a 500
            result = CheckResult.fail(f"{type(exc).__name__}: {exc}")
        return check, result, time.perf_counter() - started

    @staticmethod
    def _combine(results: list[tuple[Check, CheckResult, float]]) -> Readiness:
        status = CheckStatus.PASS
        body: dict[str, dict[str, Any]] = {}
        for check, result, elapsed in results:
            effective = result.status
            if effective is CheckStatus.FAIL and not check.required:
                effective = CheckStatus.WARN
            if effective is CheckStatus.FAIL:
                status = CheckStatus.FAIL
            elif effective is CheckStatus.WARN and status is CheckStatus.PASS:
                status = CheckStatus.WARN
            entry: dict[str, Any] = {
                "status": effective.value,
                "output": result.output,
                "time_ms": round(elapsed * 1000, 1),
            }
            if result.observed_value is not None:
                entry["observedValue"] = result.observed_value
            body[check.name] = entry
        return Readiness(status, body)
