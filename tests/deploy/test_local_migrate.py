"""The local target's release step gets what `netra migrate` reads and nothing else: the
database settings and its secret files, not SERVICE_SECRET or KEY_ENCRYPTION_KEY."""

from __future__ import annotations

from pathlib import Path

from netra.deploy.rollout import Release
from netra.deploy.runner import Runner
from netra.deploy.targets.local import LocalTarget
from tests.support.deploy import LocalEnv


def test_local_migration_receives_only_the_database(local_env: LocalEnv, tmp_path: Path) -> None:
    env = local_env()
    release = Release.of(env, "rmigrate")
    runner = Runner()
    LocalTarget(env, runner).migrate(release)

    secrets = tmp_path / "state" / "revisions" / "rmigrate" / "secrets"
    for service in ("auth", "backend"):
        assert sorted(p.name for p in (secrets / f"{service}-migrate").iterdir()) == [
            "DATABASE_URL"
        ]
        # The service itself still gets its own (for `netra serve`, later).
        assert "SERVICE_SECRET" in [p.name for p in (secrets / service).iterdir()]
    commands = [line for line in runner.log if line.startswith("$ ")]
    assert len(commands) == 2
    assert all("migrate --service" in line for line in commands)
    assert (tmp_path / "netra.db").stat().st_size > 0  # both schemas were upgraded there
