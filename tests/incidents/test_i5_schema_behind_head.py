"""docs/incidents.md I-5: migrations never ran on staging, the app came up anyway.

Netra in staging does not migrate by itself (AUTO_MIGRATE is off): it stays alive, and its
readiness is 503 naming the revision found and the one needed, until the release step
`netra migrate` runs; then it turns ready without a restart."""

from __future__ import annotations

from pathlib import Path

from netra.auth.schema import AUTH_SCHEMA
from netra.testing import NetraProcess, free_port, netra_env, run_netra
from tests.support.databases import create_pg_database, drop_pg_database


async def test_readiness_waits_for_the_release_migration(tmp_path: Path) -> None:
    name = await create_pg_database()
    env = netra_env(
        tmp_path,
        ENVIRONMENT="staging",
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
        SERVICE_SECRET="90149e3f2fc5a4f28300230fe4dc863861c3282101b169f33f5e4aa35c9a2477",
        KEY_ENCRYPTION_KEY="f7306e6b2aa2438d750ee0340897a7f9815ea30b7a2c0a16bbee22734472a50b",
    )
    try:
        with NetraProcess(["serve", "auth"], env, free_port(), tmp_path / "auth.log") as auth:
            behind = auth.wait_for("/health/ready", status=503).json()["checks"]
            assert behind["schema:auth"]["output"] == (
                f"auth schema is at no tables (never migrated), this release needs "
                f"{AUTH_SCHEMA.head()}: run `netra migrate`"
            )
            assert behind["signing_key"]["status"] == "fail"
            smoke = run_netra(["smoke", auth.url], netra_env(tmp_path))
            assert smoke.returncode == 1
            assert "smoke failed at 'backend readiness'" in " ".join(smoke.stderr.split())
            assert "schema:auth" in smoke.stderr
            migrate = run_netra(["migrate", "--service", "auth"], env)
            assert migrate.returncode == 0, migrate.stderr
            ready = auth.wait_for("/health/ready", status=200, timeout=90).json()
            assert ready["checks"]["signing_key"]["status"] == "pass"
    finally:
        await drop_pg_database(name)
