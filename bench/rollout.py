"""Rollout time on the local target, per step: preflight, migrations, start, smoke, shift.

Real processes behind a real nginx, SQLite in a temporary directory, the default gate
(`netra smoke`, in this process). Each run rolls out a new revision (LOG_LEVEL
alternates) while a client loop counts failed requests, sending a request again once,
as a browser does, when a reload closed its kept-alive connection first.
Usage: uv run python bench/rollout.py [--runs 3]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import httpx

from netra.deploy.environments import load_environment
from netra.deploy.gate import NetraSmoke
from netra.deploy.preflight import preflight
from netra.deploy.rollout import Release, Rollout
from netra.deploy.runner import Runner
from netra.deploy.targets.local import LocalTarget
from netra.testing import free_port

ENVIRONMENTS = """
[environments.bench]
target = "local"
environment = "production"
secrets_dir = "{root}/secrets"
state_dir = "{root}/state"
[environments.bench.settings]
LOG_LEVEL = "{level}"
REQUIRE_VERIFIED_EMAIL = "false"
[environments.bench.secrets]
DATABASE_URL = "database-url"
SERVICE_SECRET = "service-secret"
KEY_ENCRYPTION_KEY = "key-encryption-key"
[environments.bench.services.auth]
url = "http://127.0.0.1:{auth}"
[environments.bench.services.backend]
url = "http://127.0.0.1:{backend}"
"""


def client_loop(url: str, stop: threading.Event, counts: dict[str, int]) -> None:
    with httpx.Client(timeout=5.0) as client:
        while not stop.is_set():
            try:
                try:
                    answer = client.get(f"{url}/health/ready")
                except httpx.RemoteProtocolError:  # closed as idle by a reload: again
                    counts["retried"] += 1
                    answer = client.get(f"{url}/health/ready")
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            counts["ok" if ok else "failed"] += 1
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    root = Path(tempfile.mkdtemp(prefix="netra-bench-rollout-"))
    (root / "secrets").mkdir()
    (root / "secrets" / "database-url").write_text(f"sqlite:///{root / 'netra.db'}")
    # Staging rules: Netra's own secrets hold 32 random bytes.
    (root / "secrets" / "service-secret").write_text(secrets.token_urlsafe(32))
    (root / "secrets" / "key-encryption-key").write_text(secrets.token_urlsafe(32))
    ports = {"auth": free_port(), "backend": free_port()}
    steps: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    counts = {"ok": 0, "failed": 0, "retried": 0}
    stop = threading.Event()
    target = None
    try:
        for run in range(runs + 1):  # run 0 only brings the first revision up
            path = root / "environments.toml"
            level = ("INFO", "WARNING")[run % 2]
            path.write_text(ENVIRONMENTS.format(root=root, level=level, **ports))
            env = load_environment("bench", path)
            target = LocalTarget(env, Runner())
            engine = Rollout(env, target, NetraSmoke(), partial(preflight, env))
            started = time.perf_counter()
            report = engine.run(Release.of(env, f"bench{run}"))
            elapsed = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(f"rollout {run} failed: {report.to_dict()}")
            if run == 0:
                url = f"http://127.0.0.1:{ports['backend']}"
                threading.Thread(target=client_loop, args=(url, stop, counts), daemon=True).start()
                continue
            totals.append(elapsed)
            for step in report.steps:
                steps[step.name].append(step.duration_ms / 1000)
    finally:
        stop.set()
        if target is not None:
            target.down()
    print(f"local target, {runs} rollouts (gate: netra smoke, in process)")
    for name, values in steps.items():
        print(f"  {name:30s} median {statistics.median(values):6.2f}s  max {max(values):6.2f}s")
    print(f"  {'total':30s} median {statistics.median(totals):6.2f}s  max {max(totals):6.2f}s")
    print(
        f"client loop during rollouts: {counts['ok']} ok, {counts['failed']} failed, "
        f"{counts['retried']} sent again after a reload closed their connection"
    )


if __name__ == "__main__":
    main()
