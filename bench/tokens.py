"""Verifications per second: netra.tokens (keys cached, cold and warm token cache) beside
bare PyJWT verify of the same EdDSA token. Ratios come from one run.

    uv run python bench/tokens.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from netra.tokens import InProcessKeys, TokenVerifier

ISSUER, AUDIENCE, KID = "netra-auth", "netra", "bench-key"


def mint(private: ed25519.Ed25519PrivateKey) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": uuid.uuid4().hex, "sid": uuid.uuid4().hex,
        "jti": uuid.uuid4().hex, "iat": now, "nbf": now, "exp": now + 900, "typ": "access",
        "email": "ada@example.com", "roles": ["user"], "scope": "",
    }  # fmt: skip
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": KID})


async def rate(seconds: float, step: Callable[[int], Awaitable[Any]]) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            await step(count)
            count += 1
    return count / (time.perf_counter() - started)


async def main(seconds: float) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    jwk = {**OKPAlgorithm.to_jwk(public, as_dict=True), "kid": KID, "alg": "EdDSA"}
    document = {"keys": [jwk]}
    tokens = [mint(private) for _ in range(1000)]

    def verifier(cache_size: int) -> TokenVerifier:
        return TokenVerifier(
            InProcessKeys(lambda: document, frozenset({"EdDSA"})),
            algorithms=frozenset({"EdDSA"}),
            issuer=ISSUER,
            audience=AUDIENCE,
            cache_size=cache_size,
        )

    async def bare(i: int) -> Any:
        token = tokens[i % len(tokens)]
        return jwt.decode(token, public, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)

    uncached, cached = verifier(0), verifier(10_000)

    async def netra_uncached(i: int) -> Any:
        return await uncached.verify(tokens[i % len(tokens)])

    async def netra_cached(i: int) -> Any:
        return await cached.verify(tokens[i % len(tokens)])

    cases = {
        "bare PyJWT EdDSA verify": bare,
        "netra.tokens, token cache off": netra_uncached,
        "netra.tokens, token cache warm (1000 live tokens)": netra_cached,
    }
    # Interleaved short rounds, median per case: a shared, noisy machine hits every case alike.
    rounds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(8):
        for name, step in cases.items():
            rounds[name].append(await rate(seconds / 8, step))
    results = {name: statistics.median(values) for name, values in rounds.items()}
    baseline = results["bare PyJWT EdDSA verify"]
    print(f"{'verifications per second (one core)':52} {'per s':>10} {'x bare':>8}")
    for name, value in results.items():
        print(f"{name:52} {value:10,.0f} {value / baseline:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    asyncio.run(main(parser.parse_args().seconds))
