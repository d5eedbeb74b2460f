"""OIDC fixtures: a real OpenID provider for the session (tests/support/oidc.py), and
Netra apps configured to sign in with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.apps import SettingsFactory
from tests.support.oidc import (
    Netra,
    Provider,
    netra_with,
    oidc_env,
)


@pytest.fixture
async def netra(
    provider: Provider, make_settings: SettingsFactory, tmp_path: Path
) -> AsyncIterator[Netra]:
    """Netra (auth) on SQLite, signing in with the real provider as `test` and `lax`."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}", **oidc_env(provider)}
    async for running in netra_with(env, make_settings):
        yield running


@pytest.fixture
async def netra_on_each_db(
    provider: Provider, make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[Netra]:
    """The same, on SQLite and on PostgreSQL."""
    async for running in netra_with({**database_env, **oidc_env(provider)}, make_settings):
        yield running
