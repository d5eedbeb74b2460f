"""`netra chat`: one message through the SDK, the answer on stdout; `/edit` and `/regen`."""

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


async def test_netra_chat_edits_and_regenerates(server: Server) -> None:
    netra = Path(sys.executable).parent / "netra"
    token = await server.users.token("alice")
    process = await asyncio.create_subprocess_exec(
        str(netra),
        "chat",
        "--url",
        server.url,
        env={**os.environ, "NETRA_TOKEN": token},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    typed = b"hello\n/edit hello again\n/regen\n/edit\n"
    stdout, stderr = await asyncio.wait_for(process.communicate(typed), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().split("\n")[:3] == [
        "> you said: hello ",
        "> you said: hello again ",
        "> you said: hello again ",
    ]
    assert "/edit needs the new text" in stderr.decode()
    thread_id = stderr.decode().split("thread ", 1)[1].split()[0]
    async with server.http("alice") as alice:
        response = await alice.get(f"/api/threads/{thread_id}/messages", params={"view": "tree"})
    assert [m["content"] for m in response.json()["items"]] == [
        "hello",
        "you said: hello ",
        "hello again",
        "you said: hello again ",
        "you said: hello again ",
    ]
