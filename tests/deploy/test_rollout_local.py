"""The local target for real: `netra serve` processes behind a real nginx, gated by the
real `netra smoke`, while people use the public URLs (tests/deploy/clients.py)."""

from __future__ import annotations

import time

import httpx
import pytest

from netra.deploy.gate import NetraSmoke
from netra.deploy.rollout import rollback
from netra.deploy.targets.local import LocalTarget
from netra.settings import Service
from tests.deploy.clients import ChatLoop, ClientLoop
from tests.support.deploy import LocalEnv, roll

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

USERS = 4
# The chat loop's users ask a few questions a second each: above the default 30 a minute.
BUSY = {"CHAT_RATE_LIMIT": "1000"}


def at_most_one_retry_per_reload(requests: ClientLoop, chat: ChatLoop, reloads: int) -> None:
    """Each nginx reload may close each kept-alive connection once as a request starts
    on it (tests/deploy/clients.py, closed_idle): sent again, once, like a browser does."""
    assert requests.retried <= reloads
    assert chat.retried <= reloads * USERS // 2


def public(target: LocalTarget, service: Service = Service.BACKEND) -> str:
    return target.public_urls()[service]


def people(target: LocalTarget) -> tuple[ClientLoop, ChatLoop]:
    """Someone polling readiness, and USERS people chatting, all through nginx."""
    urls = target.public_urls()
    return ClientLoop(urls[Service.BACKEND]), ChatLoop(
        urls[Service.BACKEND], urls[Service.AUTH], users=USERS
    )


def test_good_rollout_moves_requests_and_sockets_losing_nothing(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    first = roll(local_env(settings=BUSY), deployed)
    assert first.ok, first.to_dict()
    assert first.previous is None
    env = local_env(settings={**BUSY, "LOG_LEVEL": "WARNING"})
    requests, chat = people(deployed[0])
    with requests, chat:
        second = roll(env, deployed)
        time.sleep(1.0)
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
    assert requests.failures == []
    assert requests.ok > 20
    assert chat.problems() == []
    assert chat.answers > 20
    at_most_one_retry_per_reload(requests, chat, 1)
    # Every socket was on the first revision, and was handed over: 1012, then resumed.
    assert len(chat.reconnects) >= USERS
    assert {close.split()[0] for close in chat.reconnects} == {"1012"}
    status = deployed[-1].status()
    assert status["live"] == second.revision
    assert status["revisions"][first.revision]["traffic"] == 0  # kept for rollback
    assert status["revisions"][second.revision]["ready"] is True

    target = deployed[-1]
    requests, chat = people(target)
    with requests, chat:
        back = rollback(env, target, first.revision, NetraSmoke())
        time.sleep(1.0)
    assert back.ok, back.to_dict()
    assert target.live() == first.revision
    assert requests.failures == []
    assert chat.problems() == []
    at_most_one_retry_per_reload(requests, chat, 1)
    assert {close.split()[0] for close in chat.reconnects} == {"1012"}


def test_revision_failing_the_smoke_never_gets_traffic(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    good = roll(local_env(settings=BUSY), deployed)
    assert good.ok, good.to_dict()
    # Ready, and broken where only the golden path looks: "8" meant kilobytes, and
    # every message longer than 8 characters is refused.
    env = local_env(settings={**BUSY, "MESSAGE_MAX_CHARS": "8"})
    requests, chat = people(deployed[0])
    with requests, chat:
        bad = roll(env, deployed)
    assert not bad.ok
    failed = bad.failed_step
    assert failed is not None
    assert failed.name == "smoke new revision"
    assert "smoke step 'agent run over /ws' failed" in failed.detail
    assert "too_long: message text is 16 characters; limit 8" in failed.detail
    assert "shift traffic" not in [s.name for s in bad.steps]
    assert bad.live == good.revision
    assert not bad.rolled_back
    status = deployed[-1].status()
    assert status["live"] == good.revision
    assert bad.revision not in status["revisions"]  # the failed candidate was stopped
    assert (requests.failures, requests.retried) == ([], 0)
    assert (chat.problems(), chat.retried) == ([], 0)
    assert chat.reconnects == []  # no socket ever left the live revision


def test_revision_failing_after_the_shift_is_rolled_back(
    local_env: LocalEnv, deployed: list[LocalTarget]
) -> None:
    good = roll(local_env(settings=BUSY), deployed)
    assert good.ok, good.to_dict()
    # Fine alone (the first smoke is its only socket), full once it is live: the chat
    # loop's sockets move over and the smoke through nginx is one too many.
    env = local_env(settings={**BUSY, "WS_MAX_CONNECTIONS": str(USERS)})
    requests, chat = people(deployed[0])
    with requests, chat:
        bad = roll(env, deployed)
        time.sleep(1.0)
    names = [s.name for s in bad.steps]
    assert names == [
        "preflight",
        "migrations",
        "start revision (no traffic)",
        "smoke new revision",
        "shift traffic",
        "smoke after shift",
        f"roll back to {good.revision}",
        f"stop {bad.revision}",
    ]
    failed = bad.failed_step
    assert failed is not None
    assert failed.name == "smoke after shift"
    assert "smoke step 'agent run over /ws' failed" in failed.detail
    assert "closed 1013: too many connections; retry later" in failed.detail
    assert all(step.ok for step in bad.steps if step is not failed)
    assert bad.rolled_back
    assert bad.live == good.revision
    # The rollback stops the bad revision rather than first restarting it to hand over.
    assert not [a for a in bad.actions if a.startswith("restart") and bad.revision in a]
    status = deployed[-1].status()
    assert status["live"] == good.revision
    assert bad.revision not in status["revisions"]
    assert httpx.get(f"{public(deployed[-1])}/health/ready").status_code == 200
    assert requests.failures == []
    assert chat.problems() == []
    at_most_one_retry_per_reload(requests, chat, 2)
    # Over to the new revision at the shift and back at the rollback: 1012 both times.
    assert {close.split()[0] for close in chat.reconnects} == {"1012"}
    assert len(chat.reconnects) >= 2 * USERS
