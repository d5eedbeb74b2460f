"""Provider settings: the Google preset, several providers, and every misconfiguration
reported by name by `netra config check` and at startup (the contract check)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.auth.oidc.config import GOOGLE_ISSUER, check_oidc_settings, parse_providers
from netra.settings import Service, resolve
from netra.testing import netra_env, run_netra

GOOD = {
    "OIDC_PROVIDERS": "google,corp",
    "OIDC_GOOGLE_CLIENT_ID": "123.apps.googleusercontent.com",
    "OIDC_GOOGLE_CLIENT_SECRET": "g-secret",
    "OIDC_CORP_ISSUER": "https://login.corp.example",
    "OIDC_CORP_CLIENT_ID": "netra",
    "OIDC_CORP_CLIENT_SECRET": "c-secret",
    "OIDC_CORP_SCOPES": "openid email",
    "PUBLIC_URL": "https://chat.example.com",
}


def problems(tmp_path: Path, **env: str) -> dict[str, str]:
    environ = {"ENVIRONMENT": "production", "DATA_DIR": str(tmp_path), **env}
    settings, report = resolve(
        [Service.AUTH], environ, cwd=tmp_path, checks=[check_oidc_settings], persist_generated=False
    )
    assert settings is not None
    return {p.setting: p.message for p in report.problems if p.setting.startswith("OIDC")}


def test_google_preset_and_a_second_provider(tmp_path: Path) -> None:
    environ = {"ENVIRONMENT": "production", **GOOD}
    settings, _ = resolve([Service.AUTH], environ, cwd=tmp_path, persist_generated=False)
    assert settings is not None
    providers, found = parse_providers(settings)
    assert found == []
    google, corp = providers
    assert (google.issuer, google.display_name) == (GOOGLE_ISSUER, "Google")
    assert google.redirect_url == "https://chat.example.com/auth/oidc/google/callback"
    assert google.scopes == ("openid", "email", "profile")
    assert corp.scopes == ("openid", "email")
    assert corp.client_secret is not None


@pytest.mark.parametrize(
    ("change", "setting", "words"),
    [
        (
            {"OIDC_GOOGLE_CLIENT_SECRET": None},
            "OIDC_GOOGLE_CLIENT_SECRET",
            "required in production",
        ),
        ({"OIDC_GOOGLE_ISSUER": "https://accounts.google.co"}, "OIDC_GOOGLE_ISSUER", "preset"),
        ({"OIDC_CORP_ISSUER": "http://login.corp.example"}, "OIDC_CORP_ISSUER", "https"),
        ({"OIDC_CORP_ISSUER": None}, "OIDC_CORP_ISSUER", "required"),
        ({"OIDC_CORP_CLIENT_ID": None}, "OIDC_CORP_CLIENT_ID", "required"),
        (
            {"OIDC_CORP_REDIRECT_URL": "http://chat.example.com/auth/oidc/corp/callback"},
            "OIDC_CORP_REDIRECT_URL",
            "https",
        ),
        (
            {"OIDC_CORP_REDIRECT_URL": "https://chat.example.com/auth/oidc/corp/callback/"},
            "OIDC_CORP_REDIRECT_URL",
            "exactly",
        ),
        (
            {"OIDC_CORP_REDIRECT_URL": "https://chat.example.com/auth/oidc/corp/callback?a=1"},
            "OIDC_CORP_REDIRECT_URL",
            "query",
        ),
        ({"OIDC_CORP_SCOPES": "email"}, "OIDC_CORP_SCOPES", "openid"),
        ({"OIDC_CORP_CLIENTID": "x"}, "OIDC_CORP_CLIENTID", "not a setting"),
        ({"OIDC_GOGLE_CLIENT_ID": "x"}, "OIDC_GOGLE_CLIENT_ID", "OIDC_PROVIDERS lists"),
        ({"PUBLIC_URL": None}, "OIDC_GOOGLE_REDIRECT_URL", "PUBLIC_URL"),
    ],
)
def test_misconfiguration_is_named(
    tmp_path: Path, change: dict[str, str | None], setting: str, words: str
) -> None:
    env = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    found = problems(tmp_path, **env)
    assert setting in found, found
    assert words in found[setting]


def test_development_allows_http_and_no_secret(tmp_path: Path) -> None:
    env = {
        "OIDC_PROVIDERS": "dev",
        "OIDC_DEV_ISSUER": "http://127.0.0.1:9000",
        "OIDC_DEV_CLIENT_ID": "netra",
        "OIDC_DEV_REDIRECT_URL": "http://localhost:8000/auth/oidc/dev/callback",
    }
    assert problems(tmp_path, ENVIRONMENT="development", **env) == {}


def test_config_check_and_startup_report_it(tmp_path: Path) -> None:
    env = netra_env(
        tmp_path,
        ENVIRONMENT="development",
        DATA_DIR=str(tmp_path / "data"),
        OIDC_PROVIDERS="google",
        OIDC_GOOGLE_CLIENT_ID="x",
        OIDC_GOOGLE_ISSUER="https://evil.example",
        OIDC_GOOGLE_REDIRECT_URL="http://localhost:8000/auth/oidc/google/callback",
    )
    checked = run_netra(["config", "check", "--service", "auth", "--json"], env)
    assert checked.returncode == 1, checked.stdout
    report = json.loads(checked.stdout)
    assert any(p["setting"] == "OIDC_GOOGLE_ISSUER" for p in report["problems"]), report
    started = run_netra(["serve", "auth", "--port", "1"], env, timeout=60)
    assert started.returncode == 2
    assert "OIDC_GOOGLE_ISSUER" in started.stdout + started.stderr
