"""A provider that is down or answers HTML: a clear 5xx-free refusal at sign-in (503/502
with the provider named, never a 500), readiness naming it, and no session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from netra.testing import free_port
from tests.support.apps import SettingsFactory
from tests.support.oidc import Provider, netra_with, oidc_env
from tests.support.static_site import static_site


@pytest.fixture
def html_server(tmp_path: Path) -> Iterator[str]:
    """A real web server whose discovery URL answers an HTML page (a login wall, a proxy)."""
    page = tmp_path / "site" / ".well-known" / "openid-configuration"
    page.mkdir(parents=True)
    (page / "index.html").write_text("<html><body>Please sign in to the proxy</body></html>")
    with static_site(tmp_path / "site") as url:
        yield url


@pytest.mark.parametrize("kind", ["down", "html"])
async def test_provider_down_or_answering_html(
    kind: str,
    provider: Provider,
    make_settings: SettingsFactory,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    issuer = (
        f"http://127.0.0.1:{free_port()}"
        if kind == "down"
        else request.getfixturevalue("html_server")
    )
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'netra.db'}",
        **oidc_env(provider, OIDC_LAX_ISSUER=issuer),
    }
    async for netra in netra_with(env, make_settings):
        response = await netra.browser.get("/auth/oidc/lax/login")
        status, reason = (
            (503, "provider_unavailable") if kind == "down" else (502, "provider_bad_response")
        )
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert detail["reason"] == reason
        assert "Lax" in detail["message"]
        assert "netra_oidc_login" not in response.cookies
        ready = await netra.api.get("/health/ready")
        assert ready.status_code == 200  # password sign-in and refresh still work
        assert ready.json()["status"] == "warn"
        check = ready.json()["checks"]["oidc:lax"]
        assert check["status"] == "warn"
        assert detail["message"] == check["output"]
        assert ready.json()["checks"]["oidc:test"]["status"] == "pass"
