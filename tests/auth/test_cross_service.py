"""docs/incidents.md I-4, replayed: auth and backend as separate `netra serve` processes with
separate environments, for every supported key configuration. A token minted by the
auth service is accepted by the backend (its readiness check `jwks` fetches the keys and
verifies a real token from auth); a mismatch stops the backend at startup with a message
naming both sides, never as 401s at run time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from netra.testing import PASSWORD, NetraProcess, free_port, netra_env, run_netra
from tests.support.databases import create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow
SERVICE_SECRET = "93f0ffab3592de6ce5db629c1842914f9ae1bb9f241b4db4316b7094e8687383"
SHARED = "c7fdb937c0e65a34735c4462209528f7c8d5881649c9b32da2be6922d2e17357"
NAMES = ["JWT_SECRET_STAGING", "JWT_SECRET_KEY", "JWT_SECRET"]


def base_env(tmp: Path, database: str, **extra: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {
        "ENVIRONMENT": "staging",
        "DATA_DIR": str(tmp),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "SERVICE_SECRET": SERVICE_SECRET,
    }
    return netra_env(tmp, **{**settings, **extra})


@contextmanager
def serve(service: str, env: dict[str, str], port: int) -> Iterator[NetraProcess]:
    """`netra migrate` then `netra serve` for `service`, its output in DATA_DIR."""
    migrate = run_netra(["migrate", "--service", service], env)
    assert migrate.returncode == 0, migrate.stderr
    log = Path(env["DATA_DIR"]) / f"{service}.log"
    with NetraProcess(["serve", service], env, port, log) as process:
        yield process


@pytest.fixture
async def databases() -> AsyncIterator[tuple[str, str]]:
    auth_db, backend_db = await create_pg_database(), await create_pg_database()
    try:
        yield auth_db, backend_db
    finally:
        await drop_pg_database(auth_db)
        await drop_pg_database(backend_db)


CONFIGS = [
    pytest.param({}, {}, id="jwks-eddsa"),
    pytest.param({"TOKEN_ALGORITHM": "ES256"}, {"TOKEN_ALGORITHM": "ES256"}, id="jwks-es256"),
    *(
        pytest.param(
            {"TOKEN_ALGORITHM": "HS256", name: SHARED},
            {"TOKEN_ALGORITHM": "HS256", NAMES[(i + 1) % 3]: SHARED},
            id=f"hs256-auth-{name}-backend-{NAMES[(i + 1) % 3]}",
        )
        for i, name in enumerate(NAMES)
    ),
]


@pytest.mark.parametrize(("auth_extra", "backend_extra"), CONFIGS)
async def test_a_token_minted_by_auth_is_accepted_by_the_backend(
    tmp_path: Path,
    databases: tuple[str, str],
    auth_extra: dict[str, str],
    backend_extra: dict[str, str],
) -> None:
    auth_port, backend_port = free_port(), free_port()
    auth_env = base_env(
        tmp_path / "auth",
        databases[0],
        KEY_ENCRYPTION_KEY="e75d15e29ea69a32e5c85acd51433d1333ad854d01d26fe5464485097d21bcd0",
        **auth_extra,
    )
    backend_env = base_env(
        tmp_path / "backend",
        databases[1],
        AUTH_SERVICE_URL=f"http://127.0.0.1:{auth_port}",
        **backend_extra,
    )
    with serve("auth", auth_env, auth_port) as auth:
        auth.wait_for("/health/ready")
        async with httpx.AsyncClient(base_url=auth.url) as client:
            await client.post(
                "/auth/register", json={"email": "a@example.com", "password": PASSWORD}
            )
            login = await client.post(
                "/auth/login", json={"email": "a@example.com", "password": PASSWORD}
            )
            assert login.status_code == 200
        with serve("backend", backend_env, backend_port) as backend:
            ready = backend.wait_for("/health/ready").json()
            assert ready["checks"]["jwks"]["status"] == "pass", ready


MISMATCHES = [
    pytest.param(
        {"TOKEN_ALGORITHM": "HS256", "JWT_SECRET_STAGING": SHARED},
        {"TOKEN_ALGORITHM": "HS256", "JWT_SECRET_KEY": SHARED + "-other"},
        "JWT_SECRET_{ENVIRONMENT}",
        id="different-hs256-secrets",
    ),
    pytest.param(
        {},
        {"TOKEN_ALGORITHM": "HS256", "JWT_SECRET": SHARED},
        "TOKEN_ALGORITHM",
        id="eddsa-vs-hs256",
    ),
    pytest.param({}, {"JWT_ISSUER": "someone"}, "JWT_ISSUER", id="issuer"),
    pytest.param(
        {},
        {"SERVICE_SECRET": "4c9e0f3ab1d27e56c8a9b0d3e1f24a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5"},
        "SERVICE_SECRET",
        id="service-secret",
    ),
]


@pytest.mark.parametrize(("auth_extra", "backend_extra", "named"), MISMATCHES)
async def test_a_mismatch_stops_the_backend_at_startup_naming_both_sides(
    tmp_path: Path,
    databases: tuple[str, str],
    auth_extra: dict[str, str],
    backend_extra: dict[str, str],
    named: str,
) -> None:
    auth_port, backend_port = free_port(), free_port()
    auth_env = base_env(
        tmp_path / "auth",
        databases[0],
        KEY_ENCRYPTION_KEY="e75d15e29ea69a32e5c85acd51433d1333ad854d01d26fe5464485097d21bcd0",
        **auth_extra,
    )
    backend_env = base_env(
        tmp_path / "backend",
        databases[1],
        AUTH_SERVICE_URL=f"http://127.0.0.1:{auth_port}",
        **backend_extra,
    )
    with serve("auth", auth_env, auth_port) as auth:
        auth.wait_for("/health/ready")
        with serve("backend", backend_env, backend_port) as backend:
            code = backend.process.wait(timeout=30)
            output = backend.logs()
    assert code != 0
    assert named in output, output
    assert "auth service" in output
    assert SHARED not in output
