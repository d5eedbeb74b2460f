"""Deploy fixtures: environments files written per test, and a local target with real
processes behind a real nginx, gated by the real `netra smoke`."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netra.deploy.environments import DeployEnvironment, load_environment
from netra.deploy.targets.local import LocalTarget
from tests.support.deploy import SECRETS, LocalEnv, local_toml


@pytest.fixture
def local_env(tmp_path: Path) -> LocalEnv:
    """`local_env(extra=..., store={name: value}, settings={NAME: value})`: a local
    environment on free ports, its secret store filled, SQLite in tmp_path; rewritten on
    each call (same ports)."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "database-url").write_text(f"sqlite:///{tmp_path / 'netra.db'}")
    for name, value in SECRETS.items():
        (secrets_dir / name).write_text(value)
    toml = local_toml(tmp_path)

    def build(
        extra: str = "",
        store: dict[str, str] | None = None,
        settings: dict[str, str] | None = None,
    ) -> DeployEnvironment:
        for name, value in (store or {}).items():
            (secrets_dir / name).write_text(value)
        if settings:
            extra += "[environments.local.settings]\n"
            extra += "".join(f"{name} = {json.dumps(value)}\n" for name, value in settings.items())
        path = tmp_path / "environments.toml"
        path.write_text(toml + extra)
        return load_environment("local", path)

    return build


@pytest.fixture(scope="session")
def nginx() -> str:
    """Debian's nginx; installed when missing (as scripts/ensure-services does)."""
    if shutil.which("nginx") is None and shutil.which("apt-get") is not None:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "nginx"],
            check=True,
            env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(found).exists(), "nginx is required: apt-get install -y nginx"
    return found


@pytest.fixture
def deployed(nginx: str, tmp_path: Path) -> Iterator[list[LocalTarget]]:
    """Local targets created by a test; their nginx and processes stopped afterwards."""
    targets: list[LocalTarget] = []
    yield targets
    for target in targets:
        target.down()
