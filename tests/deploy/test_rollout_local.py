"""The local target for real: `netra serve` processes behind a real nginx."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from netra.deploy.rollout import rollback
from netra.deploy.targets.local import LocalTarget
from netra.settings import Service
from tests.deploy.conftest import LocalEnv, roll, stand_in_gate

pytestmark = pytest.mark.slow


class ClientLoop:
    """Requests against the public (nginx) URL until stopped; counts every failure."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while not self._stop.is_set():
                try:
                    answer = client.get(f"{self.url}/health/ready")
                    if answer.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"{answer.status_code} {answer.text[:100]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(0.01)

    def __enter__(self) -> ClientLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def public(target: LocalTarget, service: Service = Service.BACKEND) -> str:
    return target.public_urls()[service]


def test_good_rollout_moves_traffic_with_zero_failed_requests(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    first = roll(local_env(), deployed)
    assert first.ok, first.to_dict()
    assert first.previous is None
    env = local_env('[environments.local.settings]\nLOG_LEVEL = "WARNING"\n')
    with ClientLoop(public(deployed[0])) as loop:
        second = roll(env, deployed)
        time.sleep(0.5)
    assert second.ok, second.to_dict()
    assert (second.previous, second.live) == (first.revision, second.revision)
    assert [s.name for s in second.steps] == [
        "preflight",
        "migrations",
        "start revision (no traffic)",
        "smoke new revision",
        "shift traffic",
        "smoke after shift",
    ]
    assert loop.failures == []
    assert loop.ok > 20
    status = deployed[-1].status()
    assert status["live"] == second.revision
    assert status["revisions"][first.revision]["traffic"] == 0  # kept for rollback
    assert status["revisions"][second.revision]["ready"] is True

    target = deployed[-1]
    with ClientLoop(public(target)) as loop:
        back = rollback(env, target, str(target.previous()), stand_in_gate())
    assert back.ok, back.to_dict()
    assert target.live() == first.revision
    assert loop.failures == []


def test_revision_failing_the_gate_never_gets_traffic(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    good = roll(local_env(), deployed)
    assert good.ok, good.to_dict()
    env = local_env('[environments.local.settings]\nLOG_LEVEL = "DEBUG"\n')
    with ClientLoop(public(deployed[0])) as loop:
        bad = roll(env, deployed, stand_in_gate("--fail-step", "send_message"))
    assert not bad.ok
    failed = bad.failed_step
    assert failed is not None
    assert failed.name == "smoke new revision"
    assert "send_message" in failed.detail
    assert "shift traffic" not in [s.name for s in bad.steps]
    assert bad.live == good.revision
    assert not bad.rolled_back
    status = deployed[-1].status()
    assert status["live"] == good.revision
    assert bad.revision not in status["revisions"]  # the failed candidate was stopped
    assert loop.failures == []


def test_revision_failing_after_the_shift_is_rolled_back(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    good = roll(local_env(), deployed)
    assert good.ok, good.to_dict()
    env = local_env('[environments.local.settings]\nLOG_LEVEL = "ERROR"\n')
    only_public = public(deployed[0])
    bad = roll(
        env, deployed, stand_in_gate("--fail-step", "agent_run", "--only-public", only_public)
    )
    names = [s.name for s in bad.steps]
    assert names[:5] == [
        "preflight",
        "migrations",
        "start revision (no traffic)",
        "smoke new revision",
        "shift traffic",
    ]
    assert bad.failed_step is not None
    assert bad.failed_step.name == "smoke after shift"
    assert "agent_run" in bad.failed_step.detail
    assert bad.rolled_back
    assert bad.live == good.revision
    assert f"roll back to {good.revision}" in names
    status = deployed[-1].status()
    assert status["live"] == good.revision
    assert httpx.get(f"{only_public}/health/ready").status_code == 200
