"""Polling until something is ready, failing with what was seen last: the one loop that
tests, benches and the local deploy target use to wait for a process to serve."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

T = TypeVar("T")


def wait_until(
    check: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """`check()` until it returns something other than None; TimeoutError naming `what`
    after `timeout` seconds. Exceptions from `check` propagate (a process that died)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} after {timeout:g} s")
        time.sleep(interval)


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float, what: str, interval: float = 0.05
) -> T:
    """`wait_until` for an async `check`, sleeping without blocking the loop."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} after {timeout:g} s")
        await asyncio.sleep(interval)


def _tail(log: Path, lines: int = 40) -> str:
    """The end of a log file, for a failure message."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def wait_ready(
    url: str,
    *,
    status: int = 200,
    timeout: float = 60.0,
    process: subprocess.Popen[str] | subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> httpx.Response:
    """GET `url` until it answers `status`; fails early if `process` exits, and names
    the last answer (and the end of `log`) when it gives up."""
    last = "no answer"

    def logs() -> str:
        return f"\n{_tail(log)}" if log is not None else ""

    def answered() -> httpx.Response | None:
        nonlocal last
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited {process.returncode}{logs()}")
        try:
            response = httpx.get(url, timeout=5)
        except httpx.TransportError as exc:
            last = repr(exc)
            return None
        if response.status_code == status:
            return response
        last = f"{response.status_code} {response.text[:300]}"
        return None

    try:
        return wait_until(answered, timeout, f"{url} never answered {status}", interval)
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; last: {last}{logs()}") from None
