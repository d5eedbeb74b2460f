"""MCP fixtures: the npm reference servers installed once, and server-everything's
streamable HTTP transport on a free port (helpers in tests/support/mcp.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netra.testing import free_port, wait_listening
from tests.support.mcp import everything_js, install_servers


@pytest.fixture(scope="session")
def node_modules() -> Path:
    return install_servers()


@pytest.fixture
def everything_http(node_modules: Path, tmp_path: Path) -> Iterator[str]:
    """server-everything's streamable HTTP transport on a free port: its /mcp URL."""
    port = free_port()
    log = (tmp_path / "everything-http.log").open("w")
    env = {**os.environ, "PORT": str(port)}
    process = subprocess.Popen(
        ["node", everything_js(node_modules), "streamableHttp"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()
