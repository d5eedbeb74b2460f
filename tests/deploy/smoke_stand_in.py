"""Stand-in for `netra smoke URL --auth-url URL --json` until it exists on main: the same
JSON shape, real readiness requests, and a golden-path step a test can make fail."""

from __future__ import annotations

import argparse
import json
import sys
import time
from urllib.error import URLError
from urllib.request import urlopen


def step(name: str, action: object) -> dict[str, object]:
    started = time.perf_counter()
    error = None
    try:
        action()  # type: ignore[operator]
    except (URLError, OSError, AssertionError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    elapsed = (time.perf_counter() - started) * 1000
    return {"name": name, "ok": error is None, "duration_ms": elapsed, "error": error}


def ready(url: str) -> None:
    with urlopen(f"{url}/health/ready", timeout=5) as answer:  # noqa: S310
        assert answer.status == 200, answer.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backend")
    parser.add_argument("--auth-url", required=True)
    parser.add_argument("--fail-step")
    parser.add_argument("--only-public", help="fail only when testing this backend URL")
    args = parser.parse_args()
    steps = [
        step("auth ready", lambda: ready(args.auth_url)),
        step("backend ready", lambda: ready(args.backend)),
    ]
    targeted = args.only_public is None or args.backend == args.only_public
    if args.fail_step and targeted:
        steps.append(
            {
                "name": args.fail_step,
                "ok": False,
                "duration_ms": 1.0,
                "error": "failed on purpose by the test",
            }
        )
    ok = all(s["ok"] for s in steps)
    sys.stdout.write(json.dumps({"ok": ok, "steps": steps}) + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
