"""`netra smoke`: the golden path against real servers, and one clear line per failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from netra.client.smoke import Smoke, SmokeCredentials, run_smoke
from netra.testing import NetraProcess, free_port, netra_env, run_netra
from tests.support.static_site import static_site

STEPS = [
    "backend liveness",
    "backend readiness",
    "sign in",
    "create thread",
    "agent run over /ws",
    "resume after reconnect",
    "refresh token",
    "log out",
    "old refresh token refused",
]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetraProcess]:
    home = tmp_path_factory.mktemp("smoke")
    env = netra_env(home, ENVIRONMENT="development")
    with NetraProcess(["up", "--data-dir", str(home)], env, free_port(), home / "up.log") as up:
        up.wait_for("/health/ready")
        yield up


def test_cli_walks_the_golden_path_and_reports_json(platform: NetraProcess, tmp_path: Path) -> None:
    password = "Smoke-Password-Not-Printed-42"
    env = netra_env(tmp_path, SMOKE_EMAIL="smoke@example.com", SMOKE_PASSWORD=password)
    result = run_netra(["smoke", platform.url, "--json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [step["name"] for step in report["steps"]] == STEPS
    assert all(step["ok"] and step["duration_ms"] > 0 for step in report["steps"])
    assert "391" in report["steps"][4]["detail"]
    assert password not in result.stdout + result.stderr
    again = run_netra(["smoke", platform.url], env)  # the smoke user now exists: signs in
    assert again.returncode == 0, again.stdout
    assert "signed in" in again.stdout
    assert password not in again.stdout + again.stderr


def test_down_url_fails_at_liveness_in_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_netra(["smoke", url], netra_env(tmp_path))
    assert result.returncode == 1
    assert "✗ backend liveness" in result.stdout
    line = " ".join(result.stderr.split())
    assert line.startswith(f"smoke failed at 'backend liveness': GET {url}/health: ConnectError")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL: Input should be"),
        ({"ENVIRONMENT": "bogus"}, "ENVIRONMENT: 'bogus' is not one of"),
    ],
    ids=["invalid-value", "unknown-environment"],
)
def test_a_setting_it_cannot_use_is_named_not_a_traceback(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    result = run_netra(["smoke", "http://127.0.0.1:9"], {**netra_env(tmp_path), **env})
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    assert text.startswith("Netra cannot run this command. Configuration for this client")
    assert named in text
    assert "Traceback" not in result.stderr


def test_html_answer_is_named(tmp_path: Path) -> None:
    (tmp_path / "health").write_text("<html><body>It works!</body></html>")
    with static_site(tmp_path) as url:
        result = run_netra(["smoke", url, "--json"], netra_env(tmp_path))
    report = json.loads(result.stdout)
    assert result.returncode == 1
    [step] = report["steps"]
    assert step["name"] == "backend liveness"
    assert "(HTML?), not Netra's health JSON: is the URL right?" in step["error"]


def test_unready_backend_fails_at_readiness_naming_the_check(tmp_path: Path) -> None:
    env = netra_env(
        tmp_path, ENVIRONMENT="development", AUTO_MIGRATE="false", DATA_DIR=str(tmp_path)
    )
    with NetraProcess(["serve", "auth"], env, free_port(), tmp_path / "auth.log") as auth:
        auth.wait_for("/health/ready", status=503)
        result = run_netra(["smoke", auth.url, "--json"], netra_env(tmp_path))
    steps = json.loads(result.stdout)["steps"]
    assert [s["ok"] for s in steps] == [True, False]
    assert "schema:auth: auth schema is at no tables (never migrated)" in steps[1]["error"]


async def test_socket_closed_4401_is_named_with_its_step(platform: NetraProcess) -> None:
    smoke = Smoke(platform.url, None, SmokeCredentials.ephemeral())
    try:
        await smoke.sign_in()
        await smoke.create_thread()
        await smoke.client.logout()  # the session ends: its access token is refused
        step = await smoke._timed("agent run over /ws", smoke.agent_run)
    finally:
        await smoke.client.aclose()
    assert not step.ok
    assert step.error is not None
    assert step.error.startswith(f"ws://127.0.0.1:{platform.port}/ws closed 4401: ")


async def test_smoke_runs_inside_a_running_event_loop(platform: NetraProcess) -> None:
    report = await run_smoke(platform.url)  # docs/incidents.md I-2: no asyncio.run inside
    assert report.ok, report.to_dict()
