"""The backend's service-token client against a real auth service: renewal before
expiry, one request for concurrent callers, a wrong secret named without the secret."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from netra.tokens import ServiceTokenClient, ServiceTokenError
from tests.support.tokens import SECRET

URL = "http://auth.test/auth/service-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_token_is_reused_then_renewed_before_expiry(
    auth_http: httpx.AsyncClient,
) -> None:
    clock = Clock()
    client = ServiceTokenClient(URL, "netra-backend", SECRET, auth_http, clock=clock)
    first = await asyncio.gather(*(client.token() for _ in range(5)))
    assert len(set(first)) == 1
    clock.now += 900 * 0.7  # before 75 % of the 15-minute lifetime: reused
    assert await client.token() == first[0]
    clock.now += 900 * 0.1  # past it: renewed while the old one is still valid
    await asyncio.sleep(1.01)  # a new iat, so a visibly new token
    assert await client.token() != first[0]


async def test_a_wrong_secret_is_named_without_the_secret(auth_http: httpx.AsyncClient) -> None:
    client = ServiceTokenClient(URL, "netra-backend", "wrong-wrong-wrong", auth_http)
    with pytest.raises(ServiceTokenError) as caught:
        await client.token()
    assert "SERVICE_SECRET" in str(caught.value)
    assert "wrong-wrong-wrong" not in str(caught.value)
    assert "wrong-wrong-wrong" not in repr(client)
