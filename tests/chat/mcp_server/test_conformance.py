"""The npm MCP conformance suite (`@modelcontextprotocol/conformance`, installed by the
machine's npm into tests/.cache/) against Netra's /mcp: its server scenarios, run
through a proxy that adds an API key, since the suite's client sends no header. The ones
Netra fails by design (fixture tools it does not have, capabilities it does not offer)
are listed, with why, in conformance/expected-failures.yml."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from netra.testing import AppServer
from tests.support.chat import Server
from tests.support.mcp import install_packages
from tests.support.mcp_server import BearerProxy, api_key

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]
PACKAGES = HERE / "conformance"


async def test_conformance_server_scenarios(server: Server, tmp_path: Path) -> None:
    node_modules = install_packages(PACKAGES, TESTS / ".cache" / "mcp-conformance")
    cli = node_modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    key = await api_key(server, "alice", "chat")
    async with AppServer(BearerProxy(server.url, key), lifespan="off") as proxy:
        process = await asyncio.create_subprocess_exec(
            "node",
            str(cli),
            "server",
            "--url",
            f"{proxy.url}/mcp",
            "--expected-failures",
            str(PACKAGES / "expected-failures.yml"),
            "--output-dir",
            str(tmp_path / "results"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 240)
    report = output.decode()
    assert process.returncode == 0, report
    assert "Baseline check passed" in report, report
    for scenario in ("server-initialize", "ping", "tools-list", "tools-call-error"):
        assert f"✓ {scenario}: 1 passed, 0 failed" in report, report
