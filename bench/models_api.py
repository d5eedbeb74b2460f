"""GET /api/models under load (concurrent clients), against two baselines measured in
the same run: the most trivial endpoint (GET /health, liveness: no token, no query) and an
authenticated read of the same stack (GET /api/threads?limit=1: the same token check,
plus one query).

`netra up` runs in its own process with a models file of 20 models (half of them for
admins only); clients run here. A Python client saturates before the server, so besides
requests per second the bench reads the server's CPU time per request (/proc).
Usage: uv run python bench/models_api.py [requests] [concurrency]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import cpu_seconds, start_up
from netra.testing import free_port

PASSWORD = "correct horse battery staple 42"


def models_file(folder: Path) -> Path:
    entries = []
    for index in range(20):
        roles = '["admin"]' if index % 2 else '["user", "admin"]'
        entries.append(
            f'[[models]]\nid = "m{index}"\nlabel = "Model {index}"\nprovider = "builtin"\n'
            f'capabilities = ["tools"]\nroles = {roles}\n'
        )
    path = folder / "models.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


async def load(
    client: httpx.AsyncClient, pid: int, path: str, total: int, concurrency: int
) -> tuple[float, float]:
    """(requests per second, server CPU milliseconds per request)."""
    before = cpu_seconds(pid)
    counter = iter(range(total))

    async def worker() -> None:
        for _ in counter:
            answer = await client.get(path)
            assert answer.status_code == 200, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return total / elapsed, (cpu_seconds(pid) - before) * 1000 / total


async def main(total: int, concurrency: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="netra-bench-models-"))
    port = free_port()
    server = await start_up(folder, port, MODELS_FILE=str(models_file(folder)))
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(300):
                if (await http.get("/health/ready")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            # The first account of an installation is its admin: the bench is the second.
            for email in ("admin@example.com", "bench@example.com"):
                account = {"email": email, "password": PASSWORD}
                assert (await http.post("/auth/register", json=account)).status_code == 201
            token = (await http.post("/auth/login", json=account)).json()["access_token"]
        limits = httpx.Limits(max_connections=concurrency)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=base, headers=headers, limits=limits, timeout=30
        ) as client:
            listed = (await client.get("/api/models")).json()
            assert len(listed) == 10, listed  # the user's half
            paths = ("/health", "/api/threads?limit=1", "/api/models")
            for path in paths:
                await load(client, server.pid, path, 300, concurrency)  # warm-up
            results: dict[str, list[tuple[float, float]]] = {path: [] for path in paths}
            for _ in range(2):  # interleaved rounds
                for path in paths:
                    results[path].append(
                        await load(client, server.pid, path, total // 2, concurrency)
                    )
        base_rps = sum(r for r, _ in results[paths[0]]) / 2
        base_cpu = sum(c for _, c in results[paths[0]]) / 2
        print(f"{concurrency} concurrent clients; ratios against {paths[0]}")
        for path in paths:
            rps = sum(r for r, _ in results[path]) / 2
            cpu = sum(c for _, c in results[path]) / 2
            print(
                f"{path:<24} {rps:8.0f} req/s ({rps / base_rps:4.2f}x)   "
                f"server CPU {cpu:6.3f} ms/request ({cpu / base_cpu:4.2f}x)"
            )
    finally:
        server.terminate()
        await server.wait()


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    asyncio.run(main(*arguments) if arguments else main(4000, 32))
