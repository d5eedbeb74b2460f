"""Password sign-ins per second on one core, beside the argon2id floor (one verify at
the OWASP parameters Netra uses). Logins run through the real auth service in-process
(ASGI, SQLite), one after another, so the figure is per core.

    uv run python bench/logins.py [--logins 60]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from netra.auth.app import create_app
from netra.auth.passwords import Passwords
from netra.settings import Service, load_settings

PASSWORD = "correct horse battery"


def argon2_floor(rounds: int) -> float:
    hasher = Passwords().hasher
    stored = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(rounds):
        hasher.verify(stored, PASSWORD)
    return rounds / (time.perf_counter() - started)


async def logins_per_second(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "ENVIRONMENT": "test",
            "DATA_DIR": scratch,
            "DATABASE_URL": f"sqlite:///{Path(scratch) / 'bench.db'}",
            "LOGIN_LIMIT_PER_IP": "1000000",
            "LOGIN_LIMIT_PER_ACCOUNT": "1000000",
        }
        app = create_app(load_settings([Service.AUTH], env))
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                body = {"email": "ada@example.com", "password": PASSWORD}
                await client.post("/auth/register", json=body)
                results = {}
                cases = {
                    "right password": body,
                    "wrong password": {**body, "password": "wrong password!"},
                    "unknown email": {**body, "email": "nobody@example.com"},
                }
                for label, attempt in cases.items():
                    started = time.perf_counter()
                    for _ in range(count):
                        answer = await client.post("/auth/login", json=attempt)
                        assert answer.status_code in (200, 401), answer.text
                    results[label] = count / (time.perf_counter() - started)
                return results


async def main(count: int) -> None:
    floor = argon2_floor(count)
    results = await logins_per_second(count)
    print(f"{'one core':48} {'per s':>8} {'x floor':>8}")
    print(f"{'argon2id verify alone (t=2, m=19 MiB, p=1)':48} {floor:8.1f} {1.0:8.2f}")
    for label, value in results.items():
        print(f"{'POST /auth/login, ' + label:48} {value:8.1f} {value / floor:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=60)
    asyncio.run(main(parser.parse_args().logins))
