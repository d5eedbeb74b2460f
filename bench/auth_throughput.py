"""An authenticated GET's throughput as a ratio of the same endpoint without
authentication (goal >= 0.85), through the real verifier behind a FastAPI dependency.

The server runs in its own process under uvicorn; clients run here. Because a Python
client saturates before the server, the ratio that matters is the server's CPU time per
request (read from /proc), measured for each endpoint in the same run.

    uv run python bench/auth_throughput.py [--requests 4000] [--concurrency 32]
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from typing import Annotated

import httpx

from netra.testing import free_port, wait_ready

TOKEN_COUNT = 50


def serve(port: int, cache_size: int) -> None:
    """The server process: /open and /private, the latter through netra.tokens."""
    import jwt
    import uvicorn
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from fastapi import Depends, FastAPI, HTTPException, Request
    from jwt.algorithms import OKPAlgorithm

    from netra.tokens import InProcessKeys, Principal, TokenRejected, TokenVerifier

    private = ed25519.Ed25519PrivateKey.generate()
    jwk = {**OKPAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": "k", "alg": "EdDSA"}
    verifier = TokenVerifier(
        InProcessKeys(lambda: {"keys": [jwk]}, frozenset({"EdDSA"})),
        algorithms=frozenset({"EdDSA"}),
        issuer="netra-auth",
        audience="netra",
        cache_size=cache_size,
    )
    now = int(time.time())
    tokens = [
        jwt.encode(
            {
                "iss": "netra-auth",
                "aud": "netra",
                "sub": f"user-{i}",
                "sid": uuid.uuid4().hex,
                "jti": uuid.uuid4().hex,
                "iat": now,
                "exp": now + 3600,
                "typ": "access",
            },
            private,
            algorithm="EdDSA",
            headers={"kid": "k"},
        )
        for i in range(TOKEN_COUNT)
    ]
    app = FastAPI()

    async def principal(request: Request) -> Principal:
        token = request.headers.get("authorization", "")[7:]
        try:
            return await verifier.verify(token)
        except TokenRejected as exc:
            raise HTTPException(401, exc.reason) from None

    @app.get("/open")
    async def open_endpoint() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/private")
    async def private_endpoint(who: Annotated[Principal, Depends(principal)]) -> dict[str, str]:
        return {"hello": who.subject}

    @app.get("/tokens")
    async def hand_out_tokens() -> list[str]:
        return tokens

    @app.get("/cpu")
    async def cpu() -> dict[str, float]:
        times = os.times()
        return {"cpu": times.user + times.system}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def load(
    client: httpx.AsyncClient, path: str, tokens: list[str], total: int, concurrency: int
) -> tuple[float, float]:
    """(requests per second, server CPU seconds per request)."""
    before = (await client.get("/cpu")).json()["cpu"]
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            answer = await client.get(path, headers=headers)
            assert answer.status_code == 200, answer.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    after = (await client.get("/cpu")).json()["cpu"]
    return total / elapsed, (after - before) / total


async def measure(cache_size: int, total: int, concurrency: int) -> dict[str, tuple[float, float]]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", str(port), str(cache_size)
    )
    try:
        limits = httpx.Limits(max_connections=concurrency)
        base = f"http://127.0.0.1:{port}"
        tokens = (await asyncio.to_thread(wait_ready, f"{base}/tokens", timeout=30)).json()
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            await load(client, "/private", tokens, 500, concurrency)  # warm up both paths
            await load(client, "/open", tokens, 500, concurrency)
            results = {}
            for path in ("/open", "/private", "/open", "/private"):
                rps, cpu = await load(client, path, tokens, total // 2, concurrency)
                old = results.get(path, (0.0, 0.0))
                results[path] = (old[0] + rps / 2, old[1] + cpu / 2)
            return results
    finally:
        server.terminate()
        await server.wait()


async def main(total: int, concurrency: int) -> None:
    print(
        f"{'server':48} {'req/s':>8} {'CPU µs/req':>11} {'ratio (CPU)':>12} {'ratio (req/s)':>14}"
    )
    for label, cache_size in (("token cache on (netra default)", 10_000), ("token cache off", 0)):
        results = await measure(cache_size, total, concurrency)
        open_rps, open_cpu = results["/open"]
        priv_rps, priv_cpu = results["/private"]
        print(f"{'unauthenticated GET':48} {open_rps:8,.0f} {open_cpu * 1e6:11.0f}")
        print(
            f"{'authenticated, ' + label:48} {priv_rps:8,.0f} {priv_cpu * 1e6:11.0f} "
            f"{open_cpu / priv_cpu:12.2f} {priv_rps / open_rps:14.2f}"
        )
    print(json.dumps({"goal": ">= 0.85 (ratio of authenticated to unauthenticated)"}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
    else:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--requests", type=int, default=4000)
        parser.add_argument("--concurrency", type=int, default=32)
        args = parser.parse_args()
        asyncio.run(main(args.requests, args.concurrency))
