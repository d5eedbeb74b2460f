"""Preflight against the local store: I-1 replayed, agreement, Cloud SQL, config check."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.gate import NetraSmoke
from netra.deploy.preflight import preflight
from netra.deploy.rollout import Release, Rollout
from netra.deploy.runner import Runner
from netra.deploy.targets.local import LocalTarget
from tests.support.deploy import SECRETS, LocalEnv

NAMESAKES = {  # docs/incidents.md I-1: what staging had, none of it `jwt-secret-key`
    "jwt-secret": "ea5ed37458dd07810d7c3da8db88471b32725c5c0e741f436b36f2fd31e8e202",
    "jwt-secret-key-staging": "6db66dbb0f8da575d79c163db41c7e77fa48e8a423b27722539a5027ebaae2f7",
    "jwt-secret-staging": "6609964c8032a9fe664518df5caf33d5c30d4e3ba6a5013b288802cb969130da",
    "netra-jwt-secret": "d2743a64931308a261d17cae42d1c3fb7b86281356006e3408c684d0dabc71be",
    "staging-jwt-secret": "71bdd7ac19fd37e2d2723b0798998cd53af3c4bee61f3a37546cad3c55b64800",
}
HS256 = '[environments.local.settings]\nTOKEN_ALGORITHM = "HS256"\n'


def i1_env(local_env: LocalEnv) -> object:
    return local_env(HS256, store=NAMESAKES)


def test_i1_missing_secret_is_named_with_its_near_namesake(local_env: LocalEnv) -> None:
    env = local_env(
        HS256 + "[environments.local.services.auth.secrets]\n"
        'JWT_SECRET_KEY = "jwt-secret-key"\n'
        "[environments.local.services.backend.secrets]\n"
        'JWT_SECRET_KEY = "jwt-secret-key"\n',
        store=NAMESAKES,
    )
    report = preflight(env)
    assert not report.ok
    [missing] = [f for f in report.problems if f.check == "secret"]
    assert missing.message.startswith("jwt-secret-key not found in local secrets")
    assert "did you mean jwt-secret-key-staging?" in missing.message
    for other in ("jwt-secret", "jwt-secret-staging", "netra-jwt-secret", "staging-jwt-secret"):
        assert other in missing.message


def test_i1_rollout_stops_at_preflight_before_anything_starts(
    local_env: LocalEnv, tmp_path: Path
) -> None:
    local_env()
    (tmp_path / "secrets" / "service-secret").unlink()
    (tmp_path / "secrets" / "service-secret-staging").write_text("x" * 32)
    env = local_env()
    target = LocalTarget(env, Runner())
    report = Rollout(env, target, NetraSmoke(), lambda: preflight(env)).run(Release.of(env))
    assert [s.name for s in report.steps] == ["preflight"]
    assert "service-secret not found" in report.steps[0].detail
    assert "did you mean service-secret-staging?" in report.steps[0].detail
    assert not (tmp_path / "state" / "revisions").exists()
    assert not (tmp_path / "state" / "nginx" / "nginx.pid").exists()


def test_preflight_cli_json_and_exit_code_never_print_secret_values(
    local_env: LocalEnv, tmp_path: Path
) -> None:
    local_env()
    (tmp_path / "secrets" / "key-encryption-key").unlink()
    result = CliRunner().invoke(
        app,
        [
            "deploy",
            "preflight",
            "--env",
            "local",
            "--file",
            str(tmp_path / "environments.toml"),
            "--json",
        ],
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    problems = [f for f in data["findings"] if not f["ok"]]
    assert any("key-encryption-key not found" in f["message"] for f in problems)
    for value in SECRETS.values():
        assert value not in result.stdout


def test_services_disagreeing_on_the_issuer_fail_preflight(local_env: LocalEnv) -> None:
    env = local_env('[environments.local.services.backend.settings]\nJWT_ISSUER = "old-auth"\n')
    report = preflight(env)
    [issuer] = [f for f in report.problems if f.subject == "JWT_ISSUER"]
    assert issuer.message == "auth has 'netra-auth', backend has 'old-auth'"


def test_backend_pointed_at_another_auth_service_fails_preflight(local_env: LocalEnv) -> None:
    env = local_env(
        '[environments.local.services.backend.settings]\nAUTH_SERVICE_URL = "http://127.0.0.1:1"\n'
    )
    subjects = {f.subject for f in preflight(env).problems}
    assert {"AUTH_SERVICE_URL", "JWKS URL"} <= subjects


def test_hs256_services_must_resolve_the_same_secret(local_env: LocalEnv) -> None:
    env = local_env(
        HS256 + "[environments.local.services.auth.secrets]\n"
        'JWT_SECRET_KEY = "jwt-secret"\n'
        "[environments.local.services.backend.secrets]\n"
        'JWT_SECRET_KEY = "jwt-secret-staging"\n',
        store=NAMESAKES,
    )
    [finding] = list(preflight(env).problems)
    assert finding.subject == "shared HS256 secret"


def test_cloud_sql_socket_must_match_the_attached_instance(
    local_env: LocalEnv, tmp_path: Path
) -> None:
    url = "postgresql://netra:pw@/netra?host=/cloudsql/proj:region:other"
    env = local_env(
        '[environments.local.database]\ncloud_sql_instance = "proj:region:netra"\n',
        store={"database-url": url},
    )
    found = [f for f in preflight(env).problems if f.check == "cloud sql"]
    assert {f.subject for f in found} == {"auth", "backend"}
    assert "uses /cloudsql/proj:region:other, but proj:region:netra is attached" in found[0].message


def test_an_invalid_injected_value_fails_the_config_check(local_env: LocalEnv) -> None:
    env = local_env(store={"database-url": "mysql://nope@host/db"})
    found = [f for f in preflight(env).problems if f.check == "config check"]
    assert {f.subject for f in found} == {"auth", "backend"}
    assert "unsupported scheme 'mysql'" in found[0].message
    assert "nope" not in found[0].message
