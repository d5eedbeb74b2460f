"""compose.yaml against the configuration contract, offline: each Netra service's
variables and secrets resolve for its role with nothing missing, the migration gets the
database and nothing else, and nginx upgrades WebSockets. tests/containers runs it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from netra.deploy.wiring import check
from netra.settings import Reader, Role, Service

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
ROLES: dict[str, Reader] = {
    "migrate": Role.MIGRATE,
    "auth": Service.AUTH,
    "backend-1": Service.BACKEND,
    "backend-2": Service.BACKEND,
}


def interpolated(value: object) -> str:
    """Compose's `${NAME:-default}`, with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def environ(service: dict[str, Any], secrets_dir: Path) -> dict[str, str]:
    """What the container gets: its variables, and its secrets as files in SECRETS_DIR
    (compose mounts them at /run/secrets)."""
    for name in service["secrets"]:
        (secrets_dir / name).write_text(f"stand-in-for-{name.lower()}-" + "x" * 32)
    values = {k: interpolated(v) for k, v in service["environment"].items()}
    return {**values, "SECRETS_DIR": str(secrets_dir)}


@pytest.mark.parametrize("name", list(ROLES))
def test_each_netra_service_resolves_for_its_role(name: str, tmp_path: Path) -> None:
    service = COMPOSE["services"][name]
    assert service["image"].startswith("${NETRA_IMAGE:-")
    assert service["read_only"] is True
    assert service["environment"]["SECRETS_DIR"] == "/run/secrets"
    report = check(ROLES[name], environ(service, tmp_path))
    assert report.ok, report.summary()
    # Every variable and secret given is one this role reads (nothing stray or misspelt).
    read = {entry.name for entry in report.entries} | {"SECRETS_DIR"}
    given = set(service["environment"]) | set(service["secrets"])
    assert given <= read, given - read


def test_the_migration_runs_first_with_the_database_only() -> None:
    migrate = COMPOSE["services"]["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate["secrets"] == ["DB_PASSWORD"]
    assert migrate["restart"] == "on-failure"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("auth", "backend-1", "backend-2"):
        depends = COMPOSE["services"][name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}


def test_secrets_are_files_and_data_is_in_volumes() -> None:
    for name, secret in COMPOSE["secrets"].items():
        assert secret["file"].endswith(f"/{name}")
    assert COMPOSE["services"]["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert COMPOSE["services"]["redis"]["volumes"] == ["redis-data:/data"]
    for name in ("postgres", "redis"):
        assert COMPOSE["services"][name]["healthcheck"]["test"][0] == "CMD"
    auth = COMPOSE["services"]["auth"]["environment"]
    assert interpolated(auth["TRUSTED_PROXIES"]) == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    assert "ports" not in COMPOSE["services"]["auth"]  # reached through nginx only


def test_nginx_upgrades_websockets_and_fails_over_between_backends() -> None:
    conf = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()
    for line in (
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "server backend-1:8000",
        "server backend-2:8000",
        "proxy_next_upstream error timeout http_502;",
    ):
        assert line in conf
