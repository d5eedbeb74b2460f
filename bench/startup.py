"""Time from `netra up` to a serving /health and a ready /health/ready.

Baseline in the same run: a bare FastAPI app with one route under uvicorn, started the
same way (a fresh Python process), so the ratio shows what Netra's startup adds.
Usage: uv run python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from netra.testing import free_port, wait_ready

BASELINE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/health")
def health(): return {"status": "pass"}
"""


def wait_for(url: str, started: float, process: subprocess.Popen[bytes]) -> float:
    """Seconds from `started` until `url` answers 200 (polled every 10 ms)."""
    wait_ready(url, timeout=60, process=process, interval=0.01)
    return time.perf_counter() - started


def time_process(command: list[str], port: int, paths: list[str]) -> list[float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return [wait_for(f"http://127.0.0.1:{port}{path}", started, process) for path in paths]
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    fresh, warm, ready, baseline = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        app_file = Path(scratch) / "baseline_app.py"
        app_file.write_text(BASELINE_APP)
        for run in range(args.runs):
            port = free_port()
            base = [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                scratch,
                "baseline_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ]
            baseline.append(time_process(base, port, ["/health"])[0])
            data_dir = Path(scratch) / f"data-{run}"
            for target in (fresh, warm):  # first start creates the database; second reuses it
                port = free_port()
                netra = [
                    sys.executable,
                    "-m",
                    "netra.cli",
                    "up",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data_dir),
                ]
                health, is_ready = time_process(netra, port, ["/health", "/health/ready"])
                target.append(health)
                if target is warm:
                    ready.append(is_ready)
    med = statistics.median
    print(f"runs: {args.runs} (median, min-max)")
    print(
        f"baseline FastAPI+uvicorn → /health        {med(baseline):.2f}s "
        f"({min(baseline):.2f}-{max(baseline):.2f})"
    )
    print(
        f"netra up, first start → /health          {med(fresh):.2f}s "
        f"({min(fresh):.2f}-{max(fresh):.2f})  x{med(fresh) / med(baseline):.2f} baseline"
    )
    print(
        f"netra up, existing data → /health        {med(warm):.2f}s "
        f"({min(warm):.2f}-{max(warm):.2f})  x{med(warm) / med(baseline):.2f} baseline"
    )
    print(
        f"netra up, existing data → /health/ready  {med(ready):.2f}s "
        f"({min(ready):.2f}-{max(ready):.2f})"
    )


if __name__ == "__main__":
    main()
