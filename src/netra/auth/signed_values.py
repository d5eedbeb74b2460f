"""Small values the auth service hands a browser and must get back unchanged: signed
(HMAC-SHA256, not encrypted: the browser may read them) with a key derived from
KEY_ENCRYPTION_KEY (one key per purpose), with an expiry.

Used for the device cookie (netra.auth.devices), an OIDC sign-in waiting for the
account's password before it is linked (netra.auth.oidc.linking) and the proof of a
fresh provider sign-in. Secrets stored in the database are encrypted instead
(netra.auth.sealing)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from netra.settings import Settings

MAX_LENGTH = 4096


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key for `purpose` only; without KEY_ENCRYPTION_KEY one for this process."""
    material = (
        settings.key_encryption_key.get_secret_value().encode()
        if settings.key_encryption_key is not None
        else secrets.token_bytes(32)
    )
    info = f"netra {purpose} v1".encode()
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(material)


def mac(key: bytes, text: str) -> str:
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class SignedValues:
    """Sign a JSON payload for `ttl` seconds; `open` gives it back if untouched and fresh."""

    def __init__(self, settings: Settings, purpose: str) -> None:
        self._key = derived_key(settings, purpose)

    def sign(self, payload: dict[str, Any], ttl: float) -> str:
        body = {**payload, "exp": time.time() + ttl}
        text = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
        return f"{text}.{mac(self._key, text)}"

    def open(self, signed: str | None) -> dict[str, Any] | None:
        """The payload, or None when missing, altered or expired."""
        if not signed or len(signed) > MAX_LENGTH:
            return None
        text, _, signature = signed.partition(".")
        if not hmac.compare_digest(signature, mac(self._key, text)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(body, dict) or not body.get("exp", 0) > time.time():
            return None
        return body
