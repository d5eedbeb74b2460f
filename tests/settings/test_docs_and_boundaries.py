"""The contract's documentation cannot drift, and nothing else reads the environment."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from netra.cli import app
from netra.settings.docs import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_configuration_docs_match_the_contract() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/configuration.md is stale: run `netra config docs`"


def test_only_the_settings_package_reads_the_environment() -> None:
    pattern = re.compile(r"os\.environ|os\.getenv|environ\.get\(")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "netra").rglob("*.py")
        if "settings" not in path.relative_to(ROOT / "src" / "netra").parts
        and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_config_check_reports_and_fails_for_incomplete_staging() -> None:
    result = CliRunner().invoke(
        app, ["config", "check", "--env", "staging", "--service", "backend"], env={}
    )
    assert result.exit_code == 1
    assert "AUTH_SERVICE_URL: required by backend in staging" in result.output
    assert "SERVICE_SECRET: required by backend in staging" in result.output


def test_config_check_json_is_machine_readable_and_passes_when_complete(tmp_path: Path) -> None:
    env = {
        "SERVICE_SECRET": "FzXjGOGU251KWlvrgai19h2FAM1OuJnoSeNxCxWelng",
        "AUTH_SERVICE_URL": "https://auth.example.com",
        "DATABASE_URL": "postgresql://netra:pw@db:5432/netra",
    }
    result = CliRunner().invoke(
        app, ["config", "check", "--env", "staging", "--service", "backend", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
    assert "FzXjGOGU251KWlvrgai19h2FAM1OuJnoSeNxCxWelng" not in result.output
