"""Secrets stored encrypted at rest: AES-GCM under a key derived (HKDF) from
KEY_ENCRYPTION_KEY, one derived key per purpose, bound to the row they belong to."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netra.settings import Settings

SEALED_V1 = b"\x01"


class SealingError(Exception):
    pass


def aead_for(settings: Settings, purpose: bytes) -> AESGCM:
    """The AES-GCM key of `purpose`, derived from KEY_ENCRYPTION_KEY."""
    if settings.key_encryption_key is None:
        raise SealingError("KEY_ENCRYPTION_KEY is not set: secrets cannot be stored encrypted")
    material = settings.key_encryption_key.get_secret_value().encode()
    return AESGCM(HKDF(hashes.SHA256(), 32, salt=None, info=purpose).derive(material))


class SecretSealer:
    """Encrypt a secret for the database (`seal`) and decrypt it (`open`), bound to the
    id of its row so that a sealed value copied to another row does not open."""

    def __init__(self, settings: Settings, purpose: bytes) -> None:
        self._settings = settings
        self._purpose = purpose

    def seal(self, plaintext: bytes, bound_to: str) -> bytes:
        nonce = os.urandom(12)
        aead = aead_for(self._settings, self._purpose)
        return SEALED_V1 + nonce + aead.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, blob: bytes, bound_to: str) -> bytes:
        if not blob.startswith(SEALED_V1):
            raise SealingError("a sealed secret is stored in an unknown format")
        aead = aead_for(self._settings, self._purpose)
        try:
            return aead.decrypt(blob[1:13], blob[13:], bound_to.encode())
        except InvalidTag:
            raise SealingError(
                "a sealed secret cannot be decrypted: was KEY_ENCRYPTION_KEY changed?"
            ) from None
