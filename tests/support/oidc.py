"""A real OpenID provider (npm `oidc-provider`, installed here by the machine's npm on
first use) on a free 127.0.0.1 port, and Netra apps configured to sign in with it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from joserfc.jwk import RSAKey

from netra.auth.app import create_app
from netra.settings import Service
from netra.testing import wait_ready
from tests.support.apps import SettingsFactory

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc" / "provider"
NETRA = "http://netra.test"
SECRET = "netra-test-client-secret"


def install_provider() -> None:
    """`npm ci` into tests/oidc/provider/node_modules unless already there."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the OIDC tests need Node.js and npm (apt-get install nodejs npm)")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        timeout=300,
    )


def redirect(name: str, suffix: str = "") -> str:
    return f"{NETRA}/auth/oidc/{name}/callback{suffix}"


@dataclass(frozen=True)
class Provider:
    issuer: str
    port: int
    private_jwk: dict[str, Any]

    def key(self) -> RSAKey:
        return RSAKey.import_key(self.private_jwk)


def start_provider(
    port: int,
    private_jwk: dict[str, Any],
    log: Path,
    clients: list[dict[str, Any]] | None = None,
) -> subprocess.Popen[str]:
    clients = clients or [
        {
            "client_id": "netra",
            "client_secret": SECRET,
            "redirect_uris": [redirect("test")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        },
        {
            # A lax registration: lets the tests show Netra itself refuses a redirect URI
            # differing by a trailing slash or an extra query parameter.
            "client_id": "netra-lax",
            "client_secret": SECRET,
            "redirect_uris": [redirect("lax"), redirect("lax", "/"), redirect("lax", "?extra=1")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        },
    ]
    config = {"port": port, "clients": clients, "jwks": {"keys": [private_jwk]}}
    handle = log.open("w")
    process = subprocess.Popen(
        ["node", "provider.mjs", json.dumps(config)],
        cwd=PROVIDER_DIR,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )
    discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    try:
        wait_ready(discovery, timeout=20, process=process, log=log)
    except (RuntimeError, TimeoutError):
        process.kill()
        raise
    return process


def oidc_env(provider: Provider, **extra: str) -> dict[str, str]:
    return {
        "OIDC_PROVIDERS": "test,lax",
        "OIDC_TEST_ISSUER": provider.issuer,
        "OIDC_TEST_CLIENT_ID": "netra",
        "OIDC_TEST_CLIENT_SECRET": SECRET,
        "OIDC_TEST_REDIRECT_URL": redirect("test"),
        "OIDC_TEST_DISPLAY_NAME": "Test IdP",
        "OIDC_LAX_ISSUER": provider.issuer,
        "OIDC_LAX_CLIENT_ID": "netra-lax",
        "OIDC_LAX_CLIENT_SECRET": SECRET,
        "OIDC_LAX_REDIRECT_URL": redirect("lax"),
        **extra,
    }


@dataclass
class Netra:
    app: Any
    browser: httpx.AsyncClient  # cookies, Netra in-process, the provider over the network
    api: httpx.AsyncClient  # no cookies: another client of the same app


async def netra_with(
    settings_env: dict[str, str], make_settings: SettingsFactory
) -> AsyncIterator[Netra]:
    """Netra's auth service with these settings, a browser and an API client of it."""
    settings = make_settings([Service.AUTH], **settings_env)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=30) as manager:
        asgi = httpx.ASGITransport(app=manager.app)
        mounts = {"http://127.0.0.1": httpx.AsyncHTTPTransport()}
        async with (
            httpx.AsyncClient(transport=asgi, base_url=NETRA, mounts=mounts) as browser,
            httpx.AsyncClient(transport=asgi, base_url=NETRA) as api,
        ):
            yield Netra(app, browser, api)
