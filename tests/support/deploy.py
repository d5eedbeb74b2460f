"""Deploy environments written per test, and rollouts on the local target."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from netra.deploy.environments import DeployEnvironment
from netra.deploy.gate import NetraSmoke, SmokeGate
from netra.deploy.preflight import preflight
from netra.deploy.rollout import Release, Rollout, RolloutReport
from netra.deploy.runner import Runner
from netra.deploy.targets.local import LocalTarget
from netra.testing import free_port

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "deploy" / "environments.toml"

SECRETS = {
    "service-secret": "20fc186937a16c5f1805b4dc91b2e5cda0070220ff4314015291bbbfac32abc0",
    "key-encryption-key": "ad9d38ea17e1fe02239e4b39fb809c1a17a43e611e4158d2a9d5f33f19f22bfe",
}

LocalEnv = Callable[..., DeployEnvironment]


def local_toml(tmp_path: Path, extra: str = "", secrets: str = "") -> str:
    auth, backend = free_port(), free_port()
    return f"""
[environments.local]
target = "local"
environment = "production"
secrets_dir = "{tmp_path / "secrets"}"
state_dir = "{tmp_path / "state"}"
[environments.local.secrets]
DATABASE_URL = "database-url"
SERVICE_SECRET = "service-secret"
KEY_ENCRYPTION_KEY = "key-encryption-key"
{secrets}
[environments.local.services.auth]
url = "http://127.0.0.1:{auth}"
[environments.local.services.backend]
url = "http://127.0.0.1:{backend}"
{extra}
"""


def roll(
    env: DeployEnvironment,
    targets: list[LocalTarget],
    gate: SmokeGate | None = None,
    revision: str | None = None,
) -> RolloutReport:
    target = LocalTarget(env, Runner())
    targets.append(target)
    engine = Rollout(env, target, gate or NetraSmoke(), lambda: preflight(env))
    return engine.run(Release.of(env, revision))
