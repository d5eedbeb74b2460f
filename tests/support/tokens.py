"""Keys for the token suite: an Ed25519 key published like the auth service publishes
it, and a minting helper that can forge every hostile variation."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

ISSUER, AUDIENCE, KID = "netra-auth", "netra", "test-key-1"
SECRET = "backend-service-secret-for-tests-0123456789"


@dataclass
class Keys:
    private: ed25519.Ed25519PrivateKey
    jwks: dict[str, Any]

    @classmethod
    def generate(cls) -> Keys:
        private = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
        return cls(private, {"keys": [{**jwk, "kid": KID, "alg": "EdDSA", "use": "sig"}]})

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


def es256_jwk(private: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    return {**ECAlgorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid, "alg": "ES256"}
