"""Fixtures of the token suite: a published key and its verifier, a real auth service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from netra.auth.app import create_app
from netra.settings import Service
from netra.tokens import InProcessKeys, TokenVerifier
from tests.support.apps import SettingsFactory, running
from tests.support.tokens import AUDIENCE, ISSUER, SECRET, Keys


@pytest.fixture
def keys() -> Keys:
    return Keys.generate()


@pytest.fixture
def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(
        InProcessKeys(lambda: keys.jwks, frozenset({"EdDSA"})),
        algorithms=frozenset({"EdDSA"}),
        issuer=ISSUER,
        audience=AUDIENCE,
    )


@pytest.fixture
async def auth_http(  # a real auth service, on each database
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings([Service.AUTH], SERVICE_SECRET=SECRET, **database_env)
    async with running(create_app(settings), base_url="http://auth.test") as client:
        yield client
