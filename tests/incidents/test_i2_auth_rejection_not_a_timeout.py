"""docs/incidents.md I-2: WebSocket tests "timed out during the handshake" when the server had
in fact rejected the token; a test helper called asyncio.run() inside a running loop.

Netra's /ws answers a bad or expired token at once with close code 4401 and a reason a
client can show, the SDK surfaces it as `StreamClosed(4401, reason)`, and `netra smoke`
reports the step and the code (tests/client/test_smoke.py). The rollout half of I-2 (a
revision that fails smoke never gets traffic; one that fails after the shift is rolled
back) is replayed against real processes behind nginx in tests/deploy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from netra.client import NetraClient, StreamClosed
from netra.testing import NetraProcess, free_port, netra_env


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home: Path = tmp_path_factory.mktemp("i2")
    env = netra_env(home, ENVIRONMENT="development", ACCESS_TOKEN_TTL="2")
    with NetraProcess(["up", "--data-dir", str(home)], env, free_port(), home / "up.log") as up:
        up.wait_for("/health/ready")
        yield up


@pytest.mark.parametrize(
    ("protocols", "reason"),
    [
        (["netra.v1", "bearer.not-a-token"], "a token has three dot-separated parts"),
        (["netra.v1"], "missing access token"),
    ],
    ids=["garbage-token", "no-token"],
)
async def test_rejection_is_a_close_code_not_a_timeout(
    platform: NetraProcess, protocols: list[str], reason: str
) -> None:
    # A close code and reason, not a stalled handshake: the client's own receive timeout
    # (here 5 s) would turn a silent server into TimeoutError instead.
    async with (
        asyncio.timeout(5),
        connect(platform.url.replace("http", "ws") + "/ws", subprotocols=protocols) as ws,
    ):  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, reason)


async def test_the_sdk_surfaces_the_rejection_instead_of_hanging(platform: NetraProcess) -> None:
    async with NetraClient(platform.url, access_token="expired.or.forged") as client:
        with pytest.raises(StreamClosed) as closed:
            async for _ in client.stream("any-thread"):
                pass
    assert closed.value.code == 4401
    assert closed.value.reason == (
        "the token's header cannot be decoded; no refresh token: sign in again"
    )
