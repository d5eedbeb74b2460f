"""The "migrate" role: `netra migrate` needs the database settings and nothing else, and
the rendered migration jobs receive only those (least privilege)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.deploy.environments import load_environment
from netra.deploy.render import cloudrun, kubernetes
from netra.deploy.wiring import WiringError, for_migration, wire
from netra.settings import Role, Service, resolve
from netra.testing import netra_env, run_netra
from tests.support.databases import create_pg_database, drop_pg_database

REPO = Path(__file__).resolve().parents[2]
APP_SECRETS = {"SERVICE_SECRET", "KEY_ENCRYPTION_KEY", "REDIS_URL", "JWT_SECRET_KEY"}
DATABASE_NAMES = {
    "ENVIRONMENT",
    "DATA_DIR",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DATABASE_URL",
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASSWORD",
    "DB_NAME",
    "CLOUD_SQL_INSTANCE",
    "DB_POOL_SIZE",
    "DB_POOL_TIMEOUT",
    "DB_CONNECT_TIMEOUT",
}


async def test_readme_split_deployment_migrates_with_only_the_database(tmp_path: Path) -> None:
    """README "Running the services apart": ENVIRONMENT and DATABASE_URL, then `netra
    migrate`; no AUTH_SERVICE_URL, SERVICE_SECRET or KEY_ENCRYPTION_KEY anywhere."""
    name = await create_pg_database()
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        env = netra_env(tmp_path, ENVIRONMENT="production", DATABASE_URL=url)
        check = run_netra(["config", "check", "--service", "migrate", "--json"], env)
        assert check.returncode == 0, check.stdout + check.stderr
        result = run_netra(["migrate"], env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "at head" in result.stdout
        # The services themselves still refuse what they would need.
        serve = run_netra(["config", "check", "--service", "backend", "--json"], env)
        assert serve.returncode == 1
        missing = {p["setting"] for p in json.loads(serve.stdout)["problems"]}
        assert {"AUTH_SERVICE_URL", "SERVICE_SECRET"} <= missing
    finally:
        await drop_pg_database(name)


def test_migrate_without_a_database_names_it_and_nothing_else(tmp_path: Path) -> None:
    env = netra_env(tmp_path, ENVIRONMENT="production")
    result = run_netra(["migrate"], env)
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    for name in APP_SECRETS | {"AUTH_SERVICE_URL"}:
        assert name not in result.stderr
    assert "--service migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_role_reads_only_the_database_settings() -> None:
    environ = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://netra@db/netra",
        "TOKEN_ALGORITHM": "HS256",  # no shared secret: a migration signs nothing
    }
    settings, report = resolve([Role.MIGRATE], environ, persist_generated=False)
    assert settings is not None
    assert report.ok, report.summary()
    assert {entry.name for entry in report.entries} == DATABASE_NAMES
    assert report.services == ["migrate"]
    # The same environment is not enough for either service.
    for service in Service:
        assert not resolve([service], environ, persist_generated=False)[1].ok


@pytest.mark.parametrize(
    ("environment", "render"),
    [("staging", cloudrun.migration_job), ("production", kubernetes.migration_job)],
)
def test_rendered_migration_jobs_receive_only_database_settings(
    environment: str, render: object
) -> None:
    env = load_environment(environment, REPO / "deploy" / "environments.toml")
    for service in Service:
        wired = wire(env, service)
        assert APP_SECRETS & {ref.env_name for ref in wired.secrets}  # the service has some
        job = render(env, wired, "r0")  # type: ignore[operator]
        text = json.dumps(job)
        containers = [c for c in _containers(job) if c.get("args", [""])[0] == "migrate"]
        assert len(containers) == 1
        names = {item["name"] for item in containers[0]["env"]}
        assert names <= DATABASE_NAMES, names - DATABASE_NAMES
        assert "DB_PASSWORD" in names
        for secret in APP_SECRETS | {"PUBLIC_URL", "AUTH_SERVICE_URL"}:
            assert f'"{secret}"' not in text


def test_a_migration_without_its_database_is_refused_at_render() -> None:
    env = load_environment("production", REPO / "deploy" / "environments.toml")
    wired = wire(env, Service.AUTH)
    stripped = type(wired)(
        wired.service,
        {k: v for k, v in wired.values.items() if not k.startswith("DB_")},
        [ref for ref in wired.secrets if ref.env_name != "DB_PASSWORD"],
    )
    with pytest.raises(WiringError, match="auth's migration") as caught:
        for_migration(env.name, stripped)
    assert any("DATABASE_URL" in problem for problem in caught.value.problems)


def _containers(manifest: object) -> list[dict[str, object]]:
    """Every container spec found anywhere in a manifest."""
    found: list[dict[str, object]] = []
    if isinstance(manifest, dict):
        for key, value in manifest.items():
            if key == "containers" and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(_containers(value))
    elif isinstance(manifest, list):
        for item in manifest:
            found.extend(_containers(item))
    return found
