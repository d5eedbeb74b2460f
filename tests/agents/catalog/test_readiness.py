"""Readiness probes every catalog model: the default one fails it, another one warns."""

from __future__ import annotations

from pathlib import Path

from netra.embedded import create_app
from netra.testing import free_port
from tests.support.apps import SettingsFactory, running


async def test_the_default_model_fails_readiness_and_the_others_warn(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    path = tmp_path / "models.toml"
    path.write_text(
        f'[[models]]\nid = "fast"\nprovider = "builtin"\ndefault = true\n\n'
        f'[[models]]\nid = "gone"\nprovider = "openai"\nbase_url = "{dead}"\n',
        encoding="utf-8",
    )
    settings = make_settings(MODELS_FILE=str(path), OPENAI_MAX_RETRIES="0")
    async with running(create_app(settings)) as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert checks["agent"]["status"] == "pass"
    assert checks["model:gone"]["status"] == "warn"
    assert dead.removesuffix("/v1").removeprefix("http://") in checks["model:gone"]["output"]

    path.write_text(
        f'[[models]]\nid = "gone"\nprovider = "openai"\nbase_url = "{dead}"\n'
        f'fallback = "fast"\n\n[[models]]\nid = "fast"\nprovider = "builtin"\n',
        encoding="utf-8",
    )
    async with running(create_app(settings)) as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["agent"]["status"] == "fail"
    assert checks["model:fast"]["status"] == "pass"
