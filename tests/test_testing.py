"""netra.testing: its public names are pinned (adding one is a decision), and its waiting
fails fast and in words: a process that died is named with its log, a server that never
got ready with its last answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import netra.testing
from netra.testing import AppServer, free_port, wait_ready, wait_until


def test_all_is_pinned() -> None:
    assert netra.testing.__all__ == [
        "PASSWORD",
        "AppServer",
        "NetraProcess",
        "ScriptedAgent",
        "ScriptedModelServer",
        "Users",
        "answer_chunks",
        "bearer",
        "chunk",
        "eventually",
        "free_port",
        "netra_env",
        "run_netra",
        "sign_up",
        "wait_listening",
        "wait_ready",
        "wait_until",
    ]


def test_wait_until_returns_the_first_answer_and_names_what_never_came() -> None:
    answers = iter([None, None, "ready"])
    assert wait_until(lambda: next(answers), 5, "never", interval=0.01) == "ready"
    with pytest.raises(TimeoutError, match=r"^the flag after 0.05 s$"):
        wait_until(lambda: None, 0.05, "the flag", interval=0.01)


def test_wait_ready_stops_at_once_when_the_process_exits_and_shows_its_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "server.log"
    with log.open("w") as output:
        script = "import sys; print('cannot bind: port in use'); sys.exit(3)"
        process = subprocess.Popen([sys.executable, "-c", script], stdout=output)
    process.wait(timeout=30)
    url = f"http://127.0.0.1:{free_port()}/health"
    with pytest.raises(RuntimeError, match="exited 3\ncannot bind: port in use"):
        wait_ready(url, timeout=30, process=process, log=log)


def test_wait_ready_names_the_last_answer() -> None:
    async def unready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "fail"}, status_code=503)

    app = Starlette(routes=[Route("/health/ready", unready)])
    with AppServer(app, lifespan="off").in_thread() as server:
        url = f"{server.url}/health/ready"
        last = r'never answered 200 after 0.3 s; last: 503 {"status":"fail"}$'
        with pytest.raises(TimeoutError, match=last):
            wait_ready(url, timeout=0.3)
        assert wait_ready(url, status=503).json() == {"status": "fail"}
