"""Issue 15 item 10, the small ones: each hostile case that worked on main, refused now."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from netra.auth.devices import DeviceCookies
from netra.cli import app
from netra.logs import Redactor, secret_values
from netra.settings import Service, resolve
from netra.testing import PASSWORD, bearer, sign_up
from netra.tokens import AuthServiceTokens, TokenConfigMismatch
from tests.support.apps import EmbeddedFactory, SettingsFactory
from tests.support.auth import AuthClientFactory, reason

STRONG = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def forged(header: object) -> str:
    """A JWT whose header is `header` (the signature does not matter: it is refused first)."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header)}.{part({'sub': 'x'})}.c2ln"


HOSTILE_HEADERS = [
    pytest.param({"alg": ["EdDSA"], "kid": "k"}, id="alg-list"),
    pytest.param({"alg": {"EdDSA": 1}, "kid": "k"}, id="alg-object"),
    pytest.param({"alg": None}, id="alg-null"),
    pytest.param({"alg": 7}, id="alg-number"),
    pytest.param({"alg": "EdDSA", "kid": ["a"]}, id="kid-list"),
]


@pytest.mark.parametrize("header", HOSTILE_HEADERS)
async def test_a_jwt_header_with_alg_of_the_wrong_type_is_401_not_500(
    embedded_service: EmbeddedFactory, header: object
) -> None:
    async with embedded_service() as client:
        for path in ("/auth/me", "/api/threads"):
            answer = await client.get(path, headers=bearer(forged(header)))
            assert answer.status_code == 401, (path, answer.text)


def staging_env(**extra: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://netra@db/netra",
        "AUTH_SERVICE_URL": "https://auth.example.com",
        "SERVICE_SECRET": STRONG,
        "KEY_ENCRYPTION_KEY": STRONG,
        **extra,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("SERVICE_SECRET", "", id="service-secret-empty"),
        pytest.param("SERVICE_SECRET", "   ", id="service-secret-blank"),
        pytest.param("KEY_ENCRYPTION_KEY", "", id="kek-empty"),
    ],
)
def test_an_empty_secret_is_a_missing_secret(name: str, value: str, tmp_path: Path) -> None:
    _, report = resolve(list(Service), staging_env(**{name: value}), cwd=tmp_path)
    [problem] = [p for p in report.all_problems if p.setting == name]
    assert "required by" in problem.sentence()
    assert "set but empty" in problem.sentence()
    assert not report.ok


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("SERVICE_SECRET", "service-secret", id="service-secret-word"),
        pytest.param("SERVICE_SECRET", "a" * 64, id="one-letter-repeated"),
        pytest.param("KEY_ENCRYPTION_KEY", "0123456789abcdef", id="kek-16-hex"),
        pytest.param("SERVICE_SECRET", "correct-horse-battery-staple-1", id="passphrase"),
    ],
)
def test_a_weak_secret_is_refused_in_production(name: str, value: str, tmp_path: Path) -> None:
    _, report = resolve(list(Service), staging_env(**{name: value}), cwd=tmp_path)
    [problem] = [p for p in report.all_problems if p.setting == name]
    assert "32 random bytes" in problem.sentence()
    assert value not in problem.sentence()


def test_strong_secrets_pass_and_development_keeps_its_short_ones(tmp_path: Path) -> None:
    _, report = resolve(list(Service), staging_env(), cwd=tmp_path)
    assert report.ok, report.all_problems
    dev = {"ENVIRONMENT": "development", "DATA_DIR": str(tmp_path), "SERVICE_SECRET": "short"}
    _, report = resolve(list(Service), dev, cwd=tmp_path)
    assert report.ok, report.all_problems


async def test_the_hs256_fingerprint_is_served_to_services_only(
    auth_service: AuthClientFactory, make_settings: SettingsFactory, sqlite_env: dict[str, str]
) -> None:
    env = {"TOKEN_ALGORITHM": "HS256", "JWT_SECRET_TEST": STRONG, **sqlite_env}
    async with auth_service(**env) as client:
        public = (await client.get("/.well-known/netra-auth.json")).json()
        assert "secret_fingerprint" not in public
        user = await sign_up(client)
        as_user = await client.get(
            "/.well-known/netra-auth.json", headers=bearer(user["access_token"])
        )
        assert "secret_fingerprint" not in as_user.json()
        backend = make_settings(
            [Service.BACKEND],
            AUTH_SERVICE_URL="http://testserver",
            TOKEN_ALGORITHM="HS256",
            JWT_SECRET_TEST=STRONG[::-1],
        )
        tokens = AuthServiceTokens(backend, http=client)
        with pytest.raises(TokenConfigMismatch) as caught:
            await tokens.agreement()
        message = str(caught.value)
        assert "JWT_SECRET_{ENVIRONMENT}" in message
        assert message.count("hs-") == 2, message  # both sides are named


async def test_service_token_requests_are_rate_limited(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(LOGIN_LIMIT_PER_IP="3", **sqlite_env) as client:
        body = {"service_id": "netra-backend", "service_secret": "guess"}
        answers = [await client.post("/auth/service-token", json=body) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].headers["retry-after"]


def test_oidc_code_state_and_client_secrets_are_redacted(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        [Service.AUTH],
        OIDC_PROVIDERS="corp",
        OIDC_CORP_ISSUER="http://127.0.0.1:9/",
        OIDC_CORP_CLIENT_ID="netra",
        OIDC_CORP_CLIENT_SECRET="corp-client-secret-value",
    )
    redact = Redactor(secret_values(settings))
    line = (
        '127.0.0.1 - "GET /auth/oidc/corp/callback?code=SplxlOBeZQQYbYS6WxSbIA'
        '&state=af0ifjsldkj&iss=x HTTP/1.1" 303; exchanged with corp-client-secret-value'
    )
    text = redact(line)
    for leaked in ("SplxlOBeZQQYbYS6WxSbIA", "af0ifjsldkj", "corp-client-secret-value"):
        assert leaked not in text
    assert "/auth/oidc/corp/callback?code=[redacted]&state=[redacted]&iss=x" in text


def test_the_device_cookie_uses_the_host_prefix_where_it_can(
    make_settings: SettingsFactory,
) -> None:
    local = DeviceCookies(make_settings([Service.AUTH]))
    assert local.name == "netra_device"  # plain http in development and test: no Secure
    deployed = resolve([Service.AUTH], staging_env(), persist_generated=False)[0]
    assert deployed is not None
    assert DeviceCookies(deployed).name == "__Host-netra_device"


async def test_device_cookie_attributes(auth_sqlite: httpx.AsyncClient) -> None:
    await sign_up(auth_sqlite)
    login = await auth_sqlite.post(
        "/auth/login",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"X-Netra-Refresh": "cookie"},  # a browser, as the web UI signs in
    )
    [cookie] = [c for c in login.headers.get_list("set-cookie") if c.startswith("netra_device=")]
    assert "HttpOnly" in cookie
    assert "Path=/;" in cookie
    assert "SameSite=strict" in cookie
    assert "Domain" not in cookie


async def test_guesses_of_the_current_password_count_against_the_sign_in_limit(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(LOGIN_LIMIT_PER_ACCOUNT="3", **sqlite_env) as client:
        tokens = await sign_up(client)
        client.cookies.clear()  # a stolen token, used from the attacker's own browser
        body = {"current_password": "guess number one", "new_password": "a fresh passphrase 9"}
        answers = [
            await client.post("/auth/password", json=body, headers=bearer(tokens["access_token"]))
            for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [403, 403, 403, 429, 429]
        assert reason(answers[-1]) == "rate_limited"
        right = {**body, "current_password": PASSWORD}
        refused = await client.post(
            "/auth/password", json=right, headers=bearer(tokens["access_token"])
        )
        assert refused.status_code == 429  # even the right one, within the window


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        pytest.param("0.0.0.0", True, id="any-ipv4"),  # noqa: S104
        pytest.param("192.0.2.10", True, id="lan-address"),
        pytest.param("::", True, id="any-ipv6"),
        pytest.param("127.0.0.1", False, id="loopback"),
        pytest.param("localhost", False, id="localhost"),
    ],
)
def test_netra_up_on_a_public_address_warns_of_the_development_rules(
    tmp_path: Path, host: str, warned: bool
) -> None:
    with socket.socket() as taken:  # a busy port: `up` stops right after its checks
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app,
            ["up", "--host", host, "--port", str(port), "--data-dir", str(tmp_path)],
            env={"ENVIRONMENT": "development"},
        )
    text = " ".join(result.output.split())
    assert ("first account registered becomes admin" in text) is warned, text
