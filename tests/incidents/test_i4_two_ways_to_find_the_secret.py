"""docs/incidents.md I-4: the auth service read JWT_SECRET_KEY, the backend JWT_SECRET_{ENV}
first; staging set them differently and every call was 401.

Netra resolves the shared secret through one chain in one place, so both services find
the same names; when their values still differ (two names set to two values), the backend
refuses to start, naming both sides, before it serves a single request — and `netra
smoke` stops at the backend's liveness instead of meeting a wall of 401s."""

from __future__ import annotations

from pathlib import Path

import pytest

from netra.testing import NetraProcess, free_port, netra_env, run_netra
from tests.support.databases import create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow
SECRET = "the-shared-hs256-secret-0123456789abcdef-QRSTUVWXYZqrstuvwxyz"


async def test_different_secrets_stop_the_backend_and_smoke_names_the_step(
    tmp_path: Path,
) -> None:
    database = await create_pg_database()
    common = {
        "ENVIRONMENT": "staging",
        "TOKEN_ALGORITHM": "HS256",
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "SERVICE_SECRET": "service-secret-0123456789abcdef-QRSTUVWXYZqrstuvwxyz",
    }
    auth_env = netra_env(
        tmp_path,
        **common,
        JWT_SECRET_STAGING=SECRET,
        KEY_ENCRYPTION_KEY="key-encryption-key-0123456789abcdef-QRSTUVWXYZqrstuv",
    )
    auth_port, backend_port = free_port(), free_port()
    backend_env = netra_env(
        tmp_path,
        **common,
        JWT_SECRET_KEY=SECRET + "-other",
        AUTH_SERVICE_URL=f"http://127.0.0.1:{auth_port}",
    )
    try:
        assert run_netra(["migrate", "--service", "auth"], auth_env).returncode == 0
        assert run_netra(["migrate", "--service", "backend"], backend_env).returncode == 0
        with NetraProcess(["serve", "auth"], auth_env, auth_port, tmp_path / "auth.log") as auth:
            auth.wait_for("/health/ready")
            backend = NetraProcess(
                ["serve", "backend"], backend_env, backend_port, tmp_path / "backend.log"
            )
            code = backend.process.wait(timeout=60)
            logs = backend.logs()
            backend.stop()
            smoke = run_netra(
                ["smoke", f"http://127.0.0.1:{backend_port}", "--auth-url", auth.url],
                netra_env(tmp_path),
            )
    finally:
        await drop_pg_database(database)
    assert code != 0
    assert "JWT_SECRET_{ENVIRONMENT}" in logs
    assert "auth service" in logs
    assert SECRET not in logs
    assert smoke.returncode == 1
    assert "smoke failed at 'backend liveness'" in " ".join(smoke.stderr.split())
