"""`netra keys rotate` and `netra users create-admin`, against a real database, and what
a verifier sees across a rotation and a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from netra.auth.signing import SigningKeyError
from netra.cli import app as cli
from netra.settings import Service
from netra.testing import PASSWORD, bearer, sign_up
from netra.tokens import verifier_for
from tests.support.apps import SettingsFactory
from tests.support.auth import AuthClientFactory


def cli_env(tmp_path: Path, database_env: dict[str, str]) -> dict[str, str]:
    return {"ENVIRONMENT": "test", "DATA_DIR": str(tmp_path / "data"), **database_env}


async def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), input=stdin, env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def test_rotation_keeps_old_tokens_valid_and_survives_restarts(
    auth_service: AuthClientFactory,
    make_settings: SettingsFactory,
    database_env: dict[str, str],
    tmp_path: Path,
) -> None:
    async with auth_service(**database_env) as client:
        old = await sign_up(client)
        old_kids = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
    output = await invoke(cli_env(tmp_path, database_env), "keys", "rotate")
    assert "signing with key" in output
    async with auth_service(**database_env) as client:  # a restart: keys come from the DB
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert len(jwks["keys"]) == 2
        assert old_kids[0] in [k["kid"] for k in jwks["keys"]]
        new = (
            await client.post(
                "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
            )
        ).json()
        backend = make_settings([Service.BACKEND], AUTH_SERVICE_URL="http://testserver")
        verifier = verifier_for(backend, client)
        for tokens in (old, new):
            assert (await verifier.verify(tokens["access_token"])).email == "ada@example.com"
        assert (
            await client.get("/auth/me", headers=bearer(old["access_token"]))
        ).status_code == 200


async def test_create_admin_creates_then_promotes(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env(tmp_path, sqlite_env)
    async with auth_service(**sqlite_env):
        pass  # migrates the schema
    output = await invoke(
        env, "users", "create-admin", "Root@Example.com", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert "root@example.com is an admin" in output
    async with auth_service(**sqlite_env) as client:
        await sign_up(client, "ada@example.com")
        root = (
            await client.post(
                "/auth/login", json={"email": "root@example.com", "password": PASSWORD}
            )
        ).json()
        listed = await client.get("/auth/admin/users", headers=bearer(root["access_token"]))
        assert listed.status_code == 200
    assert "promoted" in await invoke(env, "users", "create-admin", "ada@example.com", "--promote")


async def test_create_admin_refuses_a_weak_password_and_creates_nothing(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    env = cli_env(tmp_path, sqlite_env)
    async with auth_service(**sqlite_env):
        pass  # migrates the schema
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["users", "create-admin", "root@example.com", "--password-stdin"],
        input="short\n",
        env=env,
    )
    assert result.exit_code == 2, result.output
    assert "password" in result.output.lower()
    async with auth_service(**sqlite_env) as client:
        login = {"email": "root@example.com", "password": "short"}
        refused = await client.post("/auth/login", json=login)
        assert refused.json()["detail"]["reason"] == "invalid_credentials"


async def test_a_wrong_key_encryption_key_refuses_to_start_naming_it(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str]
) -> None:
    async with auth_service(KEY_ENCRYPTION_KEY="first-key-first-key-first-key", **sqlite_env):
        pass
    with pytest.raises(SigningKeyError, match="KEY_ENCRYPTION_KEY"):
        async with auth_service(KEY_ENCRYPTION_KEY="other-key-other-key-other-key", **sqlite_env):
            pass


async def test_embedded_backend_uses_the_auth_keys_in_process(
    make_settings: SettingsFactory, sqlite_env: dict[str, str]
) -> None:
    from netra.embedded import create_app
    from netra.tokens import InProcessKeys
    from tests.support.apps import running

    app = create_app(make_settings(**sqlite_env))
    async with running(app) as client:
        verifier = app.state.runtime.verifier
        assert isinstance(verifier.keys, InProcessKeys)
        tokens = await sign_up(client)
        assert (await verifier.verify(tokens["access_token"])).session_id == tokens["session_id"]
        assert isinstance(client, httpx.AsyncClient)


async def test_keys_from_a_mounted_file(
    auth_service: AuthClientFactory, sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    def pem() -> str:
        return (
            ed25519.Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )

    path = tmp_path / "signing.pem"
    path.write_text(pem() + pem())
    async with auth_service(SIGNING_KEY_FILE=str(path), **sqlite_env) as client:
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert len(jwks["keys"]) == 2
        tokens = await sign_up(client)
        assert (
            await client.get("/auth/me", headers=bearer(tokens["access_token"]))
        ).status_code == 200
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match="SIGNING_KEY_FILE"):
        async with auth_service(SIGNING_KEY_FILE=str(path), **sqlite_env):
            pass
