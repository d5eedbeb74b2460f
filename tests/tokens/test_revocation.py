"""Revocation reaches a verifier that was built before anything was revoked (the lists
start empty; an empty list must still be the one the verifier consults)."""

from __future__ import annotations

import time

import pytest

from netra.embedded import create_app
from netra.tokens import InProcessKeys, TokenRejected, TokenVerifier
from netra.tokens.revocations import RevocationList
from tests.support.apps import SettingsFactory, running
from tests.support.tokens import AUDIENCE, ISSUER, Keys


async def test_a_revocation_after_construction_is_seen(keys: Keys) -> None:
    revocations = RevocationList()  # empty, hence falsy
    verifier = TokenVerifier(
        InProcessKeys(lambda: keys.jwks, frozenset({"EdDSA"})),
        algorithms=frozenset({"EdDSA"}),
        issuer=ISSUER,
        audience=AUDIENCE,
        revocations=revocations,
    )
    token = keys.mint(sid="session-9")
    assert (await verifier.verify(token)).session_id == "session-9"  # now cached
    revocations.revoke("session-9", time.time() + 900)
    with pytest.raises(TokenRejected) as refused:
        await verifier.verify(token)
    assert refused.value.reason == "revoked"


async def test_logout_is_refused_by_the_embedded_backend_at_once(
    make_settings: SettingsFactory,
) -> None:
    async with running(create_app(make_settings())) as client:
        credentials = {"email": "gone@example.com", "password": "correct horse battery"}
        await client.post("/auth/register", json=credentials)
        tokens = (await client.post("/auth/login", json=credentials)).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await client.get("/api/threads", headers=bearer)).status_code == 200
        assert (await client.post("/auth/logout", headers=bearer)).status_code == 200
        after = await client.get("/api/threads", headers=bearer)
    assert after.status_code == 401
