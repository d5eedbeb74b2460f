"""`netra chat -m`: one message through the SDK, the answer on stdout."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.support.chat import Server


async def test_netra_chat_sends_and_prints_the_answer(server: Server) -> None:
    netra = Path(sys.executable).parent / "netra"
    token = await server.users.token("alice")
    process = await asyncio.create_subprocess_exec(
        str(netra),
        "chat",
        "--url",
        server.url,
        "-m",
        "hello terminal",
        env={**os.environ, "NETRA_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "you said: hello terminal"
    assert "thread " in stderr.decode()
