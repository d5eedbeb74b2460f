"""Keys and a verifier for the token suite: an Ed25519 key published like the auth
service publishes it, and a minting helper that can forge every hostile variation."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from netra.auth.app import create_app
from netra.settings import Service
from netra.tokens import InProcessKeys, TokenVerifier
from tests.conftest import SettingsFactory, running

ISSUER, AUDIENCE, KID = "netra-auth", "netra", "test-key-1"
SECRET = "backend-service-secret-for-tests-0123456789"


@dataclass
class Keys:
    private: ed25519.Ed25519PrivateKey
    jwks: dict[str, Any]

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-1",
            "sid": "session-1",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + 900,
            "typ": "access",
            "email": "ada@example.com",
            "roles": ["user"],
            "scope": "",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, headers: dict[str, Any] | None = None, key: Any = None, **claims: Any) -> str:
        return jwt.encode(
            self.claims(**claims),
            key or self.private,
            algorithm="EdDSA",
            headers={"kid": KID, **(headers or {})},
        )


@pytest.fixture
def keys() -> Keys:
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return Keys(private, {"keys": [{**jwk, "kid": KID, "alg": "EdDSA", "use": "sig"}]})


@pytest.fixture
def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(
        InProcessKeys(lambda: keys.jwks, frozenset({"EdDSA"})),
        algorithms=frozenset({"EdDSA"}),
        issuer=ISSUER,
        audience=AUDIENCE,
    )


def es256_jwk(private: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    return {**ECAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid, "alg": "ES256"}


@pytest.fixture
async def auth_http(  # a real auth service, on each database
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings([Service.AUTH], SERVICE_SECRET=SECRET, **database_env)
    async with running(create_app(settings), base_url="http://auth.test") as client:
        yield client
