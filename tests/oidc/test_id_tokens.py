"""ID tokens that must be refused, fed to the one verification the callback uses
(`OidcProvider.verify_id_token`), which fetches discovery and the JWKS from the real
provider. The tests sign with the provider's own key (they gave it to the provider) to
forge `aud`, `iss` and `exp`, and with a key of their own for the unknown-key case."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from netra.auth.oidc.config import ProviderConfig
from netra.auth.oidc.provider import OidcProvider
from netra.errors import BadRequest
from tests.support.oidc import Provider, redirect


def claims(provider: Provider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": provider.issuer,
        "aud": "netra",
        "sub": "sub-1",
        "iat": now,
        "exp": now + 300,
        "nonce": "the-nonce",
        "email": "ada@example.com",
        "email_verified": True,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: RSAKey, payload: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, payload, key)


@pytest.fixture
async def verifier(provider: Provider) -> Any:
    config = ProviderConfig(
        name="test",
        display_name="Test IdP",
        issuer=provider.issuer,
        client_id="netra",
        client_secret=None,
        redirect_url=redirect("test"),
        scopes=("openid", "email"),
    )
    async with httpx.AsyncClient(timeout=5) as http:
        yield OidcProvider(config, http)


async def refused(verifier: OidcProvider, token: str, reason: str) -> str:
    with pytest.raises(BadRequest) as caught:  # HTTP 400 (netra.http_errors)
        await verifier.verify_id_token(token, nonce="the-nonce")
    assert caught.value.reason == reason, caught.value.message
    return caught.value.message


async def test_a_well_formed_token_passes(provider: Provider, verifier: OidcProvider) -> None:
    verified = await verifier.verify_id_token(
        sign(provider.key(), claims(provider)), nonce="the-nonce"
    )
    assert verified["sub"] == "sub-1"


async def test_wrong_audience(provider: Provider, verifier: OidcProvider) -> None:
    token = sign(provider.key(), claims(provider, aud="another-client"))
    message = await refused(verifier, token, "id_token_invalid_claim")
    assert "aud" in message or "azp" in message  # Authlib checks azp first for a foreign aud
    other = sign(provider.key(), claims(provider, aud="another-client", azp="another-client"))
    await refused(verifier, other, "id_token_invalid_claim")


@pytest.mark.parametrize(
    "aud",
    [
        pytest.param("another-client", id="foreign-aud-our-azp"),
        pytest.param(["another-client"], id="foreign-aud-list-our-azp"),
    ],
)
async def test_audience_is_checked_itself_not_only_through_azp(
    provider: Provider, verifier: OidcProvider, aud: Any
) -> None:
    """A token issued to another client that names us only as `azp` is refused (issue 15)."""
    token = sign(provider.key(), claims(provider, aud=aud, azp="netra"))
    message = await refused(verifier, token, "id_token_invalid_claim")
    assert "aud" in message


async def test_wrong_issuer(provider: Provider, verifier: OidcProvider) -> None:
    token = sign(provider.key(), claims(provider, iss="https://accounts.evil.example"))
    assert "iss" in await refused(verifier, token, "id_token_invalid_claim")


async def test_expired(provider: Provider, verifier: OidcProvider) -> None:
    past = int(time.time()) - 3600
    token = sign(provider.key(), claims(provider, iat=past - 300, exp=past))
    await refused(verifier, token, "id_token_expired")


async def test_wrong_nonce(provider: Provider, verifier: OidcProvider) -> None:
    token = sign(provider.key(), claims(provider, nonce="someone-elses"))
    assert "nonce" in await refused(verifier, token, "id_token_invalid_claim")


async def test_unknown_key_is_refused_after_one_refetch(
    provider: Provider, verifier: OidcProvider
) -> None:
    own = RSAKey.generate_key(2048, parameters={"kid": "not-the-providers", "alg": "RS256"})
    await verifier.jwks()
    await refused(verifier, sign(own, claims(provider)), "id_token_unknown_key")


async def test_same_kid_other_key_fails_the_signature(
    provider: Provider, verifier: OidcProvider
) -> None:
    own = RSAKey.generate_key(2048, parameters={"kid": provider.key().kid, "alg": "RS256"})
    await refused(verifier, sign(own, claims(provider)), "id_token_invalid_signature")


async def test_unsigned_token(provider: Provider, verifier: OidcProvider) -> None:
    token = jwt.encode(
        {"alg": "none"},
        claims(provider),
        None,
        algorithms=["none"],
    )
    await refused(verifier, token, "id_token_invalid_signature")
