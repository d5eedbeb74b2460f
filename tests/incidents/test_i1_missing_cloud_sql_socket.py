"""docs/incidents.md I-1, the runtime half: the Cloud SQL socket was never mounted.

The old platform logged `Database connection failed: [Errno 2] No such file or directory`.
Netra's auth service stays up, answers liveness, and its readiness names the missing
socket and the likely causes; `netra migrate` says the same and exits non-zero.
(The deploy half, a secret referenced under a name that does not exist, is stopped by
`netra deploy preflight`: tests/deploy.)"""

from __future__ import annotations

import json
from pathlib import Path

from netra.testing import NetraProcess, free_port, netra_env, run_netra

INSTANCE = "netra-staging:europe-west1:netra-db"
SENTENCE = (
    f"Cloud SQL socket /cloudsql/{INSTANCE} is missing: is the instance {INSTANCE} attached "
    "to this service (Cloud Run: run.googleapis.com/cloudsql-instances)? If the deployment "
    "failed earlier, e.g. while loading secrets, the proxy never started."
)


def staging_auth_env(tmp_path: Path) -> dict[str, str]:
    return netra_env(
        tmp_path,
        ENVIRONMENT="staging",
        CLOUD_SQL_INSTANCE=INSTANCE,
        DB_USER="netra",
        DB_PASSWORD="db-password-never-shown",
        DB_NAME="netra",
        SERVICE_SECRET="3c004cba61289606e7303c8607fd87909a75045816a9a6088c6148a8cadbc79d",
        KEY_ENCRYPTION_KEY="66e71e7f08ec7c311f108551e39ad0945e747b82ae00e1d0db64fb3985e19627",
    )


def test_readiness_names_the_missing_socket_not_enoent(tmp_path: Path) -> None:
    env = staging_auth_env(tmp_path)
    with NetraProcess(["serve", "auth"], env, free_port(), tmp_path / "auth.log") as auth:
        auth.wait_for("/health")
        ready = auth.wait_for("/health/ready", status=503)
        database = ready.json()["checks"]["database"]
        smoke = run_netra(["smoke", auth.url, "--json"], netra_env(tmp_path))
        logs = auth.logs()
    assert database == {"status": "fail", "output": SENTENCE, "time_ms": database["time_ms"]}
    assert "Errno 2" not in logs
    assert "db-password-never-shown" not in logs + ready.text
    steps = json.loads(smoke.stdout)["steps"]
    assert [(step["name"], step["ok"]) for step in steps] == [
        ("backend liveness", True),
        ("backend readiness", False),
    ]
    assert f"database: {SENTENCE}" in steps[1]["error"]


def test_migrate_release_step_fails_with_the_same_sentence(tmp_path: Path) -> None:
    result = run_netra(["migrate", "--service", "auth"], staging_auth_env(tmp_path))
    assert result.returncode == 1
    assert " ".join(result.stderr.split()) == f"Cannot migrate: {SENTENCE}"
