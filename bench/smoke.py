"""`netra smoke` end to end against a fresh `netra up`, step by step.

Prints each step's median and the whole walk, over several runs against one server
(the first run also creates the smoke user; later runs sign in). Usage:
uv run python bench/smoke.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import httpx

from bench.startup import free_port
from netra.client.smoke import SmokeCredentials, run_smoke


async def walk(url: str, runs: int) -> None:
    credentials = SmokeCredentials("bench-smoke@example.com", "bench smoke password 42")
    steps: dict[str, list[float]] = defaultdict(list)
    totals = []
    for _ in range(runs):
        started = time.perf_counter()
        report = await run_smoke(url, credentials=credentials)
        totals.append(time.perf_counter() - started)
        if not report.ok:
            raise SystemExit(f"smoke failed: {report.failed}")
        for step in report.steps:
            steps[step.name].append(step.duration_ms)
    print(f"netra smoke against netra up, {runs} runs (median, min-max)")
    for name, values in steps.items():
        print(
            f"  {name:<26} {statistics.median(values):8.1f} ms "
            f"({min(values):.1f}-{max(values):.1f})"
        )
    print(
        f"  {'whole walk':<26} {statistics.median(totals) * 1000:8.1f} ms "
        f"({min(totals) * 1000:.1f}-{max(totals) * 1000:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen(
            [sys.executable, "-m", "netra.cli", "up", "--port", str(port), "--data-dir", data],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(walk(url, args.runs))
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
