"""Signing keys: generated, encrypted at rest, shared by every instance through the
database, rotated with the old key published until its last token has expired.

In HS256 compatibility mode the key is the shared secret from settings and nothing is
stored or published.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth.models import SigningKey
from netra.auth.sealing import SealingError, SecretSealer
from netra.db.base import utcnow
from netra.settings import Settings
from netra.tokens import secret_kid

log = logging.getLogger("netra.auth.keys")


class SigningKeyError(Exception):
    """A stored key cannot be used (wrong KEY_ENCRYPTION_KEY, corrupt row)."""


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    algorithm: str
    private_key: Any
    public_jwk: dict[str, Any]
    retired: bool


def _sealer(settings: Settings) -> SecretSealer:
    """Private keys are stored sealed (netra.auth.sealing), bound to their kid."""
    if settings.key_encryption_key is None:
        raise SigningKeyError(
            "KEY_ENCRYPTION_KEY is not set: signing keys cannot be stored encrypted"
        )
    return SecretSealer(settings, b"netra signing keys v1")


def _generate(algorithm: str) -> Any:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _public_jwk(private_key: Any, algorithm: str) -> dict[str, Any]:
    public = private_key.public_key()
    jwk = (OKPAlgorithm if algorithm == "EdDSA" else ECAlgorithm).to_jwk(public, as_dict=True)
    canonical = json.dumps({k: jwk[k] for k in sorted(jwk)}, separators=(",", ":"))
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()[:12]).decode()
    return {**jwk, "kid": kid.rstrip("="), "alg": algorithm, "use": "sig"}


class SigningKeys:
    """The auth service's keys: `signer()` for minting, `jwks()` for publishing."""

    def __init__(self, settings: Settings, db: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.algorithm = settings.token_algorithm
        self._db = db
        self._keys: list[LoadedKey] = []
        self._jwks: tuple[list[LoadedKey], dict[str, Any]] | None = None
        if self.algorithm == "HS256":
            if settings.jwt_secret is None:
                raise SigningKeyError("TOKEN_ALGORITHM=HS256 needs JWT_SECRET_{ENVIRONMENT}")
            secret = settings.jwt_secret.get_secret_value()
            self._keys = [LoadedKey(secret_kid(secret), "HS256", secret.encode(), {}, False)]

    @property
    def retention(self) -> timedelta:
        """How long a retired key stays published: its last token's lifetime, plus skew."""
        return timedelta(seconds=self.settings.access_token_ttl + self.settings.token_leeway + 60)

    def loaded(self) -> bool:
        return any(not key.retired for key in self._keys)

    def signer(self) -> LoadedKey:
        for key in self._keys:
            if not key.retired:
                return key
        raise SigningKeyError("no signing key is loaded")

    def jwks(self) -> dict[str, Any]:
        """The published document; the same object until the keys change."""
        if self._jwks is None or self._jwks[0] is not self._keys:
            self._jwks = (self._keys, {"keys": [k.public_jwk for k in self._keys if k.public_jwk]})
        return self._jwks[1]

    async def load(self) -> None:
        """Read the published keys; create the first one when there is none."""
        if self.algorithm == "HS256":
            return
        if self.settings.signing_key_file is not None:
            self._keys = mounted_keys(self.settings.signing_key_file, self.algorithm)
            return
        self._keys = await self._read()
        if not self.loaded():
            await self.rotate()

    async def _read(self) -> list[LoadedKey]:
        now = utcnow()
        sealer = _sealer(self.settings)
        async with self._db() as session:
            rows = (
                await session.scalars(
                    select(SigningKey)
                    .where(SigningKey.algorithm == self.algorithm)
                    .where(or_(SigningKey.publish_until.is_(None), SigningKey.publish_until > now))
                    .order_by(SigningKey.created_at.desc(), SigningKey.kid)
                )
            ).all()
        return [self._decrypt(sealer, row) for row in rows]

    @staticmethod
    def _decrypt(sealer: SecretSealer, row: SigningKey) -> LoadedKey:
        try:
            pem = sealer.open(row.private_key, row.kid)
        except SealingError as exc:  # another KEY_ENCRYPTION_KEY, or an unknown format
            raise SigningKeyError(f"signing key {row.kid}: {exc}") from exc
        private = serialization.load_pem_private_key(pem, password=None)
        return LoadedKey(
            row.kid, row.algorithm, private, json.loads(row.public_jwk), row.retired_at is not None
        )

    async def rotate(self) -> str:
        """Add a new key and sign with it; older keys stay published for `retention`."""
        if self.settings.signing_key_file is not None:
            raise SigningKeyError(
                "SIGNING_KEY_FILE is set: rotate by putting the new key first in that file "
                "and keeping the old one after it until its tokens have expired"
            )
        private = _generate(self.algorithm)
        jwk = _public_jwk(private, self.algorithm)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sealed = _sealer(self.settings).seal(pem, jwk["kid"])
        now = utcnow()
        async with self._db() as session, session.begin():
            await session.execute(
                update(SigningKey)
                .where(SigningKey.retired_at.is_(None), SigningKey.kid != jwk["kid"])
                .values(retired_at=now, publish_until=now + self.retention)
            )
            session.add(
                SigningKey(
                    kid=jwk["kid"],
                    algorithm=self.algorithm,
                    public_jwk=json.dumps(jwk),
                    private_key=sealed,
                    created_at=now,
                )
            )
        self._keys = await self._read()
        log.info("signing key %s (%s) is now in use", jwk["kid"], self.algorithm)
        return str(jwk["kid"])


def mounted_keys(path: Path, algorithm: str) -> list[LoadedKey]:
    """Keys from a mounted PEM file: the first signs, the others are published only."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SigningKeyError(f"SIGNING_KEY_FILE {path} cannot be read: {exc.strerror}") from None
    blocks = ["-----BEGIN" + part for part in text.split("-----BEGIN")[1:]]
    wanted = ed25519.Ed25519PrivateKey if algorithm == "EdDSA" else ec.EllipticCurvePrivateKey
    keys = []
    for index, block in enumerate(blocks):
        try:
            private = serialization.load_pem_private_key(block.encode(), password=None)
        except ValueError:
            raise SigningKeyError(
                f"SIGNING_KEY_FILE {path}: key {index + 1} is not an unencrypted PEM private key"
            ) from None
        if not isinstance(private, wanted) or (
            isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name != "secp256r1"
        ):
            raise SigningKeyError(
                f"SIGNING_KEY_FILE {path}: key {index + 1} does not fit TOKEN_ALGORITHM="
                f"{algorithm} (EdDSA needs Ed25519, ES256 needs P-256)"
            )
        jwk = _public_jwk(private, algorithm)
        keys.append(LoadedKey(jwk["kid"], algorithm, private, jwk, retired=index > 0))
    if not keys:
        raise SigningKeyError(f"SIGNING_KEY_FILE {path} holds no PEM private key")
    return keys
