"""The environments file: the samples load; every problem is named at once, by key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netra.cli import app
from netra.deploy.environments import EnvironmentsError, TargetKind, load, load_environment
from tests.support.deploy import SAMPLE

BROKEN = """
[environments.staging]
target = "cloudrunn"
environment = "staging"
[environments.staging.settings]
JWT_ISSUR = "x"
DB_PASSWORD = "inline"
[environments.staging.secrets]
JWT_SECRET_KY = "jwt-secret-key-staging"
[environments.staging.services.auth]
url = "not a url"

[environments.prod]
target = "cloudrun"
environment = "production"
[environments.prod.services.auth]
url = "https://auth.example.com"
"""


def test_sample_environments_load() -> None:
    found = load(SAMPLE)
    assert {name: env.target for name, env in found.items()} == {
        "local": TargetKind.LOCAL,
        "staging": TargetKind.CLOUDRUN,
        "production": TargetKind.KUBERNETES,
    }


def test_every_problem_is_listed_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text(BROKEN)
    with pytest.raises(EnvironmentsError) as caught:
        load(path)
    problems = caught.value.problems
    text = str(caught.value)
    assert str(path) in text
    expected = [
        "environments.staging.target: Input should be 'cloudrun', 'kubernetes' or 'local'",
        "environments.staging.services.auth.url: Input should be a valid URL",
        "environments.prod.settings" not in text
        and "environments.prod.project: required for target cloudrun",
        "environments.prod.region: required for target cloudrun",
        "environments.prod.services.backend: missing (give at least its url)",
    ]
    for needle in expected:
        assert any(str(needle) in problem for problem in problems), (needle, problems)


def test_setting_and_secret_names_are_checked_against_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text(
        BROKEN.replace('target = "cloudrunn"', 'target = "cloudrun"').replace(
            'url = "not a url"', 'url = "https://a.example.com"'
        )
    )
    with pytest.raises(EnvironmentsError) as caught:
        load(path)
    problems = caught.value.problems
    assert (
        "environments.staging.settings.JWT_ISSUR: no setting of that name in the contract; "
        "did you mean JWT_ISSUER?" in problems
    )
    assert (
        "environments.staging.secrets.JWT_SECRET_KY: no secret of that name in the "
        "contract; did you mean JWT_SECRET_KEY?" in problems
    )
    assert any(
        p.startswith("environments.staging.settings.DB_PASSWORD: DB_PASSWORD is a secret")
        for p in problems
    )


def test_unknown_environment_suggests_the_close_one() -> None:
    with pytest.raises(EnvironmentsError, match=r"no environment 'stagin'.*did you mean staging"):
        load_environment("stagin", SAMPLE)


def test_cli_reports_the_file_problems_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "environments.toml"
    path.write_text(BROKEN)
    result = CliRunner().invoke(app, ["deploy", "environments", "--file", str(path)])
    assert result.exit_code == 2
    assert "JWT_ISSUR" in result.output
