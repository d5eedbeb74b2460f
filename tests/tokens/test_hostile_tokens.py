"""Every hostile token of issue 4's list, each refused with a typed reason (modelled on
PyJWT's and ory/fosite's suites)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from netra.tokens import InProcessKeys, TokenRejected, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, KID, Keys, es256_jwk


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def segments(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def sign_raw(keys: Keys, header: dict[str, object], claims: dict[str, object]) -> str:
    """A token PyJWT would refuse to mint (non-string kid or iss), signed for real."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(keys.private.sign(signing_input.encode()))}"


async def rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_a_valid_token_verifies(verifier: TokenVerifier, keys: Keys) -> None:
    principal = await verifier.verify(keys.mint())
    assert principal.subject == "user-1"
    assert principal.kind == "access"
    assert principal.session_id == "session-1"
    assert principal.roles == frozenset({"user"})


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_with_empty_signature(verifier: TokenVerifier, keys: Keys, alg: str) -> None:
    token = segments({"alg": alg, "typ": "JWT", "kid": KID}, keys.claims())
    assert await rejected(verifier, token) == "wrong_algorithm"


async def test_hs256_signed_with_our_public_key_algorithm_confusion(
    verifier: TokenVerifier, keys: Keys
) -> None:
    public_pem = keys.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(keys.claims()).encode())}"
    import hashlib
    import hmac

    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert await rejected(verifier, f"{signing_input}.{b64(signature)}") == "wrong_algorithm"


@pytest.mark.parametrize("alg", ["HS256", "HS512", "RS256", "ES256", "PS256"])
async def test_algorithm_off_the_allow_list(verifier: TokenVerifier, keys: Keys, alg: str) -> None:
    token = segments({"alg": alg, "kid": KID}, keys.claims(), b"x" * 64)
    assert await rejected(verifier, token) == "wrong_algorithm"


async def test_alg_and_kid_mismatch(keys: Keys) -> None:
    # Both algorithms allowed, but the kid names an Ed25519 key: an ES256 token under it
    # must be refused for its algorithm, not tried against the wrong key type.
    ec_key = ec.generate_private_key(ec.SECP256R1())
    document = {"keys": [*keys.jwks["keys"], es256_jwk(ec_key, "ec-key")]}
    verifier = TokenVerifier(
        InProcessKeys(lambda: document, frozenset({"EdDSA", "ES256"})),
        algorithms=frozenset({"EdDSA", "ES256"}),
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    token = jwt.encode(keys.claims(), ec_key, algorithm="ES256", headers={"kid": KID})
    assert await rejected(verifier, token) == "wrong_algorithm"


CLAIM_CASES: list[tuple[str, Callable[[int], dict[str, object]], str]] = [
    ("expired", lambda now: {"exp": now - 120, "iat": now - 1000, "nbf": now - 1000}, "expired"),
    ("exp-equals-now", lambda now: {"exp": now}, "expired"),
    ("nbf-in-future", lambda now: {"nbf": now + 3600}, "not_yet_valid"),
    ("iat-in-future", lambda now: {"iat": now + 3600}, "not_yet_valid"),
    ("exp-not-numeric", lambda now: {"exp": "tomorrow"}, "malformed"),
    ("aud-missing", lambda now: {"aud": None}, "wrong_audience"),
    ("aud-wrong", lambda now: {"aud": "someone-else"}, "wrong_audience"),
    ("iss-missing", lambda now: {"iss": None}, "wrong_issuer"),
    ("iss-prefix", lambda now: {"iss": "netra-aut"}, "wrong_issuer"),
    ("iss-suffix", lambda now: {"iss": "netra-auth-evil"}, "wrong_issuer"),
    ("typ-refresh", lambda now: {"typ": "refresh"}, "wrong_type"),
    ("typ-missing", lambda now: {"typ": None}, "malformed"),
    ("sub-missing", lambda now: {"sub": None}, "malformed"),
    ("access-without-sid", lambda now: {"sid": None}, "malformed"),
]


@pytest.mark.parametrize(
    ("claims", "reason"),
    [pytest.param(claims, reason, id=name) for name, claims, reason in CLAIM_CASES],
)
async def test_claims(
    verifier: TokenVerifier,
    keys: Keys,
    claims: Callable[[int], dict[str, object]],
    reason: str,
) -> None:
    assert await rejected(verifier, keys.mint(**claims(int(time.time())))) == reason


def _tamper_payload(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def _flip_bit(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[10] ^= 0x01
    return f"{header}.{payload}.{b64(bytes(raw))}"


SHAPE_CASES: list[tuple[str, Callable[[str], str], set[str]]] = [
    ("tampered-payload", _tamper_payload, {"invalid_signature"}),
    ("bit-flipped-signature", _flip_bit, {"invalid_signature"}),
    ("bad-base64-padding", lambda t: t.replace(".", "===.", 1), {"malformed"}),
    ("bad-base64-characters", lambda t: "!!" + t, {"malformed"}),
    ("two-segments", lambda t: t.rsplit(".", 1)[0], {"malformed"}),
    ("four-segments", lambda t: t + ".AAAA", {"malformed"}),
    ("empty-signature", lambda t: t.rsplit(".", 1)[0] + ".", {"invalid_signature"}),
    ("one-megabyte", lambda t: t + "A" * (1 << 20), {"malformed"}),
    ("empty", lambda t: "", {"missing"}),
]


@pytest.mark.parametrize(
    ("change", "reasons"),
    [pytest.param(change, reasons, id=name) for name, change, reasons in SHAPE_CASES],
)
async def test_shapes(
    verifier: TokenVerifier, keys: Keys, change: Callable[[str], str], reasons: set[str]
) -> None:
    assert await rejected(verifier, change(keys.mint())) in reasons


@pytest.mark.parametrize("shape", ["flat", "three-segments"])
async def test_a_one_megabyte_token_is_refused_by_its_length_before_parsing(
    verifier: TokenVerifier, keys: Keys, shape: str
) -> None:
    # "Fast" is shown structurally, not by a timer: the size check comes before any
    # decoding, so even a well-formed, validly signed megabyte token is refused by it.
    token = "e" * (1 << 20) if shape == "flat" else keys.mint(padding="p" * (1 << 20))
    with pytest.raises(TokenRejected) as caught:
        await verifier.verify(token)
    assert (caught.value.reason, caught.value.message) == (
        "malformed",
        "the credential is too long",
    )


@pytest.mark.parametrize(
    ("kid", "reason"),
    [
        pytest.param("../../etc/passwd", "unknown_key", id="path"),
        pytest.param("x' OR '1'='1", "unknown_key", id="sql"),
        pytest.param("k" * 10_240, "malformed", id="ten-kilobytes"),
        pytest.param("k" * 2_000, "unknown_key", id="two-kilobytes"),
        pytest.param("", "unknown_key", id="empty"),
        pytest.param(None, "unknown_key", id="absent"),
        pytest.param(7, "unknown_key", id="number"),
    ],
)
async def test_hostile_kid(verifier: TokenVerifier, keys: Keys, kid: object, reason: str) -> None:
    header = {"alg": "EdDSA", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    token = sign_raw(keys, header, keys.claims())
    assert await rejected(verifier, token) == reason


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk"])
async def test_key_urls_in_the_header_are_ignored(
    verifier: TokenVerifier, keys: Keys, header: str
) -> None:
    attacker = ed25519.Ed25519PrivateKey.generate()
    from jwt.algorithms import OKPAlgorithm

    value: object = "https://attacker.example/jwks.json"
    if header == "jwk":
        value = OKPAlgorithm.to_jwk(attacker.public_key(), as_dict=True)
    token = keys.mint(headers={header: value}, key=attacker)
    assert await rejected(verifier, token) == "invalid_signature"


async def test_issuer_as_a_list(verifier: TokenVerifier, keys: Keys) -> None:
    token = sign_raw(keys, {"alg": "EdDSA", "kid": KID}, keys.claims(iss=["netra-auth"]))
    assert await rejected(verifier, token) == "wrong_issuer"


async def test_unknown_crit_header(verifier: TokenVerifier, keys: Keys) -> None:
    token = keys.mint(headers={"crit": ["exp-critical"], "exp-critical": True})
    assert await rejected(verifier, token) == "malformed"


async def test_revoked_session_is_refused_even_when_cached(
    verifier: TokenVerifier, keys: Keys
) -> None:
    token = keys.mint()
    await verifier.verify(token)
    assert len(verifier.cache) == 1
    verifier.revocations.revoke("session-1", time.time() + 60)
    assert await rejected(verifier, token) == "revoked"


async def test_cached_token_still_expires(keys: Keys) -> None:
    now = [time.time()]
    verifier = TokenVerifier(
        InProcessKeys(lambda: keys.jwks, frozenset({"EdDSA"})),
        algorithms=frozenset({"EdDSA"}),
        issuer=ISSUER,
        audience=AUDIENCE,
        clock=lambda: now[0],
    )
    token = keys.mint(exp=int(now[0]) + 60)
    await verifier.verify(token)
    now[0] += 61
    assert await rejected(verifier, token) == "expired"


async def test_service_token_where_a_user_is_required(verifier: TokenVerifier, keys: Keys) -> None:
    from netra.tokens import require_user

    principal = await verifier.verify(keys.mint(typ="service", sub="service:x", sid=None))
    assert principal.is_service
    with pytest.raises(TokenRejected) as caught:
        require_user(principal)
    assert caught.value.reason == "wrong_type"


async def test_a_refresh_token_is_not_an_access_token(verifier: TokenVerifier) -> None:
    import secrets

    assert await rejected(verifier, secrets.token_urlsafe(32)) == "malformed"
