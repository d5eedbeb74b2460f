"""Minting access and service tokens with the current signing key."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable

import jwt

from netra.auth.signing import SigningKeys
from netra.settings import Settings


class TokenIssuer:
    def __init__(self, settings: Settings, keys: SigningKeys) -> None:
        self.settings = settings
        self.keys = keys

    @property
    def ttl(self) -> int:
        """`expires_in` of the answers: whole seconds, never less than the token lives."""
        return math.ceil(self.settings.access_token_ttl)

    def _sign(self, claims: dict[str, object]) -> str:
        key = self.keys.signer()
        now = time.time()
        # `exp` rounds up from the exact moment: a token lives at least ACCESS_TOKEN_TTL
        # (counting from the whole second would cut up to a second off every token).
        payload = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": int(now),
            "nbf": int(now),
            "exp": math.ceil(now + self.settings.access_token_ttl),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        headers = {"kid": key.kid, "typ": "at+jwt"}
        return jwt.encode(payload, key.private_key, algorithm=key.algorithm, headers=headers)

    def access_token(
        self,
        *,
        user_id: str,
        email: str,
        roles: Iterable[str],
        session_id: str,
        email_verified: bool = False,
        scopes: Iterable[str] = (),
    ) -> str:
        """A user's access token for one session."""
        return self._sign(
            {
                "sub": user_id,
                "sid": session_id,
                "typ": "access",
                "email": email,
                "email_verified": email_verified,
                "roles": sorted(roles),
                "scope": " ".join(sorted(scopes)),
            }
        )

    def service_token(self, service_id: str) -> str:
        """`sub = service:<id>`, `typ = service`: for calls between services."""
        return self._sign(
            {"sub": f"service:{service_id}", "typ": "service", "roles": ["service"], "scope": ""}
        )
