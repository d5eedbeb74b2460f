"""Every bench runs as the docs give it (`uv run python bench/NAME.py ...`, from the
repository's root) at its smallest size, and prints its figures. The quick ones run in
the default suite; those that start servers, nginx or a model are `slow`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
NUMBER = r"[0-9][0-9,.]*"
# Imported or started by the benches, not run on their own.
HELPERS = {"common", "counting_client", "db_rates", "mcp_echo_server"}

QUICK = {
    "agent_latency": (["3"], [rf"start -> first message_delta p50\s+{NUMBER} µs"]),
    "tokens": (["--seconds", "0.1"], [rf"token cache off\s+{NUMBER}\s+{NUMBER}"]),
    "logins": (["--logins", "2"], [rf"POST /auth/login, right password\s+{NUMBER}\s+{NUMBER}"]),
}
SLOW = {
    "auth_throughput": (
        ["--requests", "100", "--concurrency", "2"],
        [rf"authenticated, token cache off\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}"],
    ),
    "startup": (["--runs", "1"], [rf"netra up, existing data → /health/ready\s+{NUMBER}s"]),
    "smoke": (["--runs", "1"], [rf"whole walk\s+{NUMBER} ms"]),
    "rollout": (["--runs", "1"], [rf"total\s+median\s+{NUMBER}s", r"client loop during"]),
    "ws_fanout": (
        ["4", "--rounds", "1", "--events", "100"],
        [rf"netra / raw:\s+throughput {NUMBER}", rf"netra\s+{NUMBER} deliveries/s .* lost 0"],
    ),
    "ws_latency": (
        ["2", "1"],
        [
            rf"ping -> pong p50 {NUMBER} ms",
            r"lost, duplicated or failed: 0",
            rf"one transaction per message {NUMBER} messages/s \(netra x{NUMBER}",
        ],
    ),
    "scale_out": (
        ["4", "1", "--processes", "1,2"],
        [
            rf"rows per message: {NUMBER} inserted, {NUMBER} updated",
            rf"2 backend processes\s+{NUMBER} messages/s\s+x{NUMBER} one process",
            r"lost, duplicated or failed: 0",
        ],
    ),
    "ws_memory": (["4"], [rf"netra /ws\s+-?{NUMBER} KB per connection"]),
    "post_calls": (
        ["4", "2"],
        [
            rf"ping -> pong: {NUMBER} Python calls each",
            rf"wave 2: {NUMBER} calls per message \(posted, run, answered\): x{NUMBER} a ping",
        ],
    ),
    "search": (
        ["--messages", "200", "--queries", "8"],
        [rf"LIKE / full-text: p50\s+{NUMBER}x", rf"{NUMBER} us with it"],
    ),
    "pdf_index": (
        ["--pages", "4", "--runs", "1", "--db", "sqlite,postgresql"],
        [
            rf"PDF upload \(pypdf \+ index\)\s+{NUMBER} s\s+{NUMBER} pages/s",
            rf"PDF / plain text: {NUMBER}x",
        ],
    ),
    "local_llm": (["4"], [rf"netra\s+overall decode:\s+{NUMBER} tokens/s"]),
    "mcp_tools": (["20"], [rf"MCP over stdio\s+p50\s+{NUMBER} µs\s+p99\s+{NUMBER} µs"]),
    "models_api": (["40", "2"], [rf"/health\s+{NUMBER} req/s", rf"/api/models\s+{NUMBER} req/s"]),
    "mcp_server": (
        ["20"],
        [rf"MCP read_thread\s+p50\s+{NUMBER} µs\s+p99\s+{NUMBER} µs\s+{NUMBER}x"],
    ),
    "usage_accounting": (["5"], [rf"with accounting\s+mean\s+{NUMBER} ms .* x\s*{NUMBER}"]),
    "thread_open": (
        ["--messages", "200", "--branches", "5", "--opens", "2"],
        [rf"5 branches\s+path\s+{NUMBER} messages\s+p50\s+{NUMBER} ms .* {NUMBER}x"],
    ),
    "dashboard": (["2000", "3"], [rf"dashboard\s+empty p50\s+{NUMBER} p99\s+{NUMBER} ms"]),
    "approval_resume": (
        ["2"],
        [rf"approve_tool → approval_resolved \(resumed\)\s+p50\s+{NUMBER} ms .* {NUMBER}x"],
    ),
}


def run_bench(name: str, args: list[str], figures: list[str], timeout: float) -> None:
    """`python bench/NAME.py ARGS` from the repository's root, as a fresh clone runs it."""
    done = subprocess.run(
        [sys.executable, f"bench/{name}.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output, output
    for figure in figures:
        assert re.search(figure, done.stdout), f"{name} did not print {figure!r}:\n{output}"


@pytest.mark.parametrize("name", sorted(QUICK))
def test_quick_bench_prints_its_figures(name: str) -> None:
    run_bench(name, *QUICK[name], timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_bench_prints_its_figures(name: str) -> None:
    run_bench(name, *SLOW[name], timeout=300)


def test_every_bench_is_run_and_every_documented_one_exists() -> None:
    benches = {path.stem for path in BENCH.glob("*.py")} - HELPERS
    assert benches == set(QUICK) | set(SLOW)
    texts = [path.read_text() for path in [REPO / "README.md", *REPO.glob("docs/*.md")]]
    texts += [(BENCH / f"{name}.py").read_text() for name in benches]
    named = {name for text in texts for name in re.findall(r"bench/(\w+)\.py", text)}
    assert named - HELPERS <= benches, named - benches
    commands = {c for text in texts for c in re.findall(r"uv run python ([^\s`]+)", text)}
    assert all(re.fullmatch(r"bench/\w+\.py", command) for command in commands), commands
