"""`netra smoke` end to end against a fresh `netra up`, step by step.

Prints each step's median and the whole walk, over several runs against one server
(the first run also creates the smoke user; later runs sign in). Usage:
uv run python bench/smoke.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from netra.client.smoke import SmokeCredentials, run_smoke
from netra.testing import NetraProcess, free_port, netra_env


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
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        command = ["up", "--data-dir", str(home / "data")]
        with NetraProcess(command, netra_env(home), free_port(), home / "up.log") as server:
            server.wait_for("/health/ready")
            asyncio.run(walk(server.url, args.runs))


if __name__ == "__main__":
    main()
