"""The contract's resolver: where values come from, and every problem in one report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.settings import ConfigurationError, Service, Status, load_settings, resolve
from netra.settings.resolver import contract
from netra.settings.spec import Environment

BACKEND = [Service.BACKEND]
STAGING_DB = {"DATABASE_URL": "postgresql://netra@db.internal:5432/netra"}


def report_for(environ: dict[str, str], services: list[Service] = BACKEND, cwd: Path | None = None):
    return resolve(services, environ, cwd=cwd, persist_generated=False)[1]


def test_every_missing_required_setting_is_listed_at_once() -> None:
    report = report_for({"ENVIRONMENT": "staging"})
    names = [problem.setting for problem in report.all_problems]
    assert names == ["AUTH_SERVICE_URL", "SERVICE_SECRET", "DATABASE_URL"]
    assert "required by backend in staging (looked in: $AUTH_SERVICE_URL)" in report.summary()


def test_missing_setting_lists_every_place_it_looked(tmp_path: Path) -> None:
    report = report_for({"ENVIRONMENT": "production", "SECRETS_DIR": str(tmp_path), **STAGING_DB})
    entry = report.entry("SERVICE_SECRET")
    assert entry.status is Status.MISSING
    assert entry.looked == ["$SERVICE_SECRET", str(tmp_path / "SERVICE_SECRET")]


def test_near_namesake_is_suggested() -> None:
    report = report_for({"ENVIRONMENT": "staging", "SERVICE_SECRT": "s3cr3t-value", **STAGING_DB})
    assert report.entry("SERVICE_SECRET").hint == (
        "did you mean SERVICE_SECRT (found in environment)?"
    )


def test_secret_of_another_environment_is_named() -> None:
    environ = {
        "ENVIRONMENT": "staging",
        "TOKEN_ALGORITHM": "HS256",
        "JWT_SECRET_PRODUCTION": "x" * 40,
        **STAGING_DB,
    }
    [problem] = [p for p in report_for(environ).all_problems if p.setting.startswith("JWT")]
    assert problem.looked == ["$JWT_SECRET_STAGING", "$JWT_SECRET_KEY", "$JWT_SECRET"]
    assert problem.hint == (
        "JWT_SECRET_PRODUCTION is set, but ENVIRONMENT is staging; did you mean JWT_SECRET_STAGING?"
    )


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        ({"JWT_SECRET_STAGING": "a", "JWT_SECRET_KEY": "b", "JWT_SECRET": "c"}, "a"),
        ({"JWT_SECRET_KEY": "b", "JWT_SECRET": "c"}, "b"),
        ({"JWT_SECRET": "c"}, "c"),
    ],
    ids=["env-specific-first", "key-second", "plain-last"],
)
def test_shared_secret_chain_is_one_order_for_every_service(
    present: dict[str, str], expected: str
) -> None:
    environ = {"ENVIRONMENT": "staging", "TOKEN_ALGORITHM": "HS256", **present}
    for services in ([Service.AUTH], [Service.BACKEND]):
        settings, _ = resolve(services, environ, persist_generated=False)
        assert settings is not None
        assert settings.jwt_secret is not None
        assert settings.jwt_secret.get_secret_value() == expected


def test_secrets_directory_is_read_and_named_as_the_source(tmp_path: Path) -> None:
    (tmp_path / "SERVICE_SECRET").write_text("from-a-file\n")
    environ = {"ENVIRONMENT": "staging", "SECRETS_DIR": str(tmp_path), **STAGING_DB}
    settings, report = resolve(BACKEND, environ, persist_generated=False)
    assert settings is not None
    assert settings.service_secret is not None
    assert settings.service_secret.get_secret_value() == "from-a-file"
    assert report.entry("SERVICE_SECRET").source == f"file {tmp_path / 'SERVICE_SECRET'}"


def test_empty_secret_file_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "SERVICE_SECRET").write_text("\n")
    report = report_for({"ENVIRONMENT": "staging", "SECRETS_DIR": str(tmp_path), **STAGING_DB})
    entry = report.entry("SERVICE_SECRET")
    assert entry.status is Status.INVALID
    assert entry.message == f"{tmp_path / 'SERVICE_SECRET'} is empty"


def test_unreadable_secret_file_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "SERVICE_SECRET").mkdir()  # unreadable as a file, even for root
    report = report_for({"ENVIRONMENT": "staging", "SECRETS_DIR": str(tmp_path), **STAGING_DB})
    assert report.entry("SERVICE_SECRET").message == (
        f"cannot read {tmp_path / 'SERVICE_SECRET'}: Is a directory"
    )


def test_missing_secrets_directory_is_reported(tmp_path: Path) -> None:
    report = report_for({"SECRETS_DIR": str(tmp_path / "nope")}, [Service.AUTH])
    assert [p.sentence() for p in report.all_problems] == [
        f"SECRETS_DIR: {tmp_path / 'nope'} is not a directory; "
        "mount the secrets volume there or unset it"
    ]


def test_dotenv_is_read_in_development_only(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_MODEL=from-dotenv\n")
    dev, _ = resolve(BACKEND, {}, cwd=tmp_path, persist_generated=False)
    assert dev is not None
    assert dev.openai_model == "from-dotenv"
    staging, _ = resolve(
        BACKEND, {"ENVIRONMENT": "staging", **STAGING_DB}, cwd=tmp_path, persist_generated=False
    )
    assert staging is not None
    assert staging.openai_model == "gpt-4o-mini"


def test_invalid_values_are_reported_with_the_value_when_not_secret() -> None:
    report = report_for({"AUTO_MIGRATE": "maybe", "DB_PORT": "five"})
    messages = {p.setting: p.message for p in report.all_problems}
    assert messages["AUTO_MIGRATE"].endswith("(got 'maybe')")
    assert messages["DB_PORT"].endswith("(got 'five')")


def test_unknown_environment_is_checked_as_production() -> None:
    report = report_for({"ENVIRONMENT": "prod"})
    assert report.environment == "production"
    assert report.all_problems[0].sentence() == (
        "ENVIRONMENT: 'prod' is not one of development, test, staging, production; "
        "checking as production, the strictest (looked in: $ENVIRONMENT)"
    )


def test_load_settings_raises_with_the_whole_report() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(BACKEND, {"ENVIRONMENT": "production"})
    assert len(caught.value.report.all_problems) == 3
    assert str(caught.value).startswith("Configuration for backend in production has 3 problem")


def test_generated_secrets_are_kept_and_shared(tmp_path: Path) -> None:
    environ = {"DATA_DIR": str(tmp_path), "AUTH_SERVICE_URL": "http://127.0.0.1:8001"}
    first = load_settings(BACKEND, environ)
    second = load_settings([Service.AUTH, Service.BACKEND], environ)
    assert first.service_secret is not None
    assert second.service_secret is not None
    assert first.service_secret.get_secret_value() == second.service_secret.get_secret_value()
    assert (tmp_path / "dev-secrets" / "SERVICE_SECRET").stat().st_mode & 0o777 == 0o600


def test_secrets_are_never_generated_outside_development_and_test(tmp_path: Path) -> None:
    report = report_for({"ENVIRONMENT": "staging", "DATA_DIR": str(tmp_path), **STAGING_DB})
    assert report.entry("SERVICE_SECRET").status is Status.MISSING
    assert not (tmp_path / "dev-secrets").exists()


def test_report_never_contains_a_secret_value() -> None:
    password = "hunter2-Very-Secret"
    environ = {
        "ENVIRONMENT": "staging",
        "DATABASE_URL": f"postgresql://netra:{password}@db:5432/netra",
        "SERVICE_SECRET": password,
        "REDIS_URL": f"redis://:{password}@cache:6379/0",
        "AUTO_MIGRATE": "maybe",
    }
    report = report_for(environ)
    rendered = report.summary() + json.dumps(report.to_dict())
    assert password not in rendered
    assert report.entry("SERVICE_SECRET").source == "environment variable SERVICE_SECRET"


def test_secrets_have_no_default_outside_generation() -> None:
    for name, info, spec in contract():
        if spec.secret:
            assert info.get_default() is None, name
        if spec.generate is not None:
            assert spec.secret, name


def test_backend_alone_must_be_told_where_auth_is() -> None:
    [problem] = report_for({}).all_problems
    assert problem.sentence() == (
        "AUTH_SERVICE_URL: is required by a backend running on its own (only `netra up` serves "
        "the auth service in the same process) (looked in: $AUTH_SERVICE_URL, "
        f"{Path.cwd() / '.env'}:AUTH_SERVICE_URL)"
    )


def test_embedded_development_needs_nothing_set(tmp_path: Path) -> None:
    settings, report = resolve(list(Service), {"DATA_DIR": str(tmp_path)}, persist_generated=False)
    assert report.ok, report.summary()
    assert settings is not None
    assert settings.environment is Environment.DEVELOPMENT


def test_an_access_token_ttl_under_a_second_is_refused() -> None:
    report = report_for({"ENVIRONMENT": "development", "ACCESS_TOKEN_TTL": "0.5"}, [Service.AUTH])
    assert [p.setting for p in report.all_problems] == ["ACCESS_TOKEN_TTL"]
    assert "greater than or equal to 1" in report.summary()
