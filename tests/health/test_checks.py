"""The readiness registry: concurrent, time-limited, cached, named."""

from __future__ import annotations

import asyncio
import time

import pytest

from netra.health import Check, CheckResult, HealthRegistry


def slow(seconds: float, calls: list[str], name: str) -> Check:
    async def probe() -> CheckResult:
        calls.append(name)
        await asyncio.sleep(seconds)
        return CheckResult.ok(f"{name} fine")

    return Check(name, probe)


async def test_checks_run_concurrently_and_are_cached() -> None:
    calls: list[str] = []
    registry = HealthRegistry(ttl=5.0)
    registry.register(slow(0.3, calls, "a"))
    registry.register(slow(0.3, calls, "b"))
    started = time.perf_counter()
    first = await registry.readiness()
    elapsed = time.perf_counter() - started
    assert elapsed < 0.55, "two 0.3 s checks must overlap"
    await asyncio.gather(*(registry.readiness() for _ in range(50)))  # a probe storm
    assert calls == ["a", "b"]
    assert first.ready


async def test_a_hanging_check_fails_with_its_timeout() -> None:
    registry = HealthRegistry(ttl=0)
    calls: list[str] = []
    registry.register(Check("stuck", slow(30, calls, "stuck").probe, timeout=0.1))
    readiness = await registry.readiness()
    assert readiness.body()["status"] == "fail"
    assert readiness.checks["stuck"]["output"] == "did not answer within 0.1s"


async def test_optional_check_failure_only_warns() -> None:
    async def down() -> CheckResult:
        return CheckResult.fail("redis down")

    registry = HealthRegistry(ttl=0)
    registry.register(Check("redis", down, required=False))
    readiness = await registry.readiness()
    assert readiness.ready
    assert readiness.body() == {
        "status": "warn",
        "checks": {
            "redis": {"status": "warn", "output": "redis down", "time_ms": pytest.approx(0, abs=50)}
        },
    }


async def test_a_raising_probe_is_a_failed_check_not_an_error() -> None:
    async def broken() -> CheckResult:
        raise RuntimeError("boom")

    registry = HealthRegistry(ttl=0)
    registry.register(Check("broken", broken))
    readiness = await registry.readiness()
    assert readiness.checks["broken"]["output"] == "RuntimeError: boom"
    assert not readiness.ready


def test_names_are_unique() -> None:
    registry = HealthRegistry()
    registry.register(slow(0, [], "db"))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(slow(0, [], "db"))
