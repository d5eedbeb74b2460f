"""The web UI as served: security headers, caching, files, and no inline code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from netra.embedded import create_app
from netra.web import STATIC
from tests.support.apps import SettingsFactory, running

SCRIPTS = sorted((STATIC / "js").rglob("*.js"))


@pytest.fixture
async def web(make_settings: SettingsFactory, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'web.db'}")
    async with running(create_app(settings)) as client:
        yield client


async def test_the_page_has_a_strict_content_security_policy(web: httpx.AsyncClient) -> None:
    page = await web.get("/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"


async def test_static_files_are_served_with_headers_and_revalidated(
    web: httpx.AsyncClient,
) -> None:
    script = await web.get("/static/js/app.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "content-security-policy" in script.headers
    assert script.headers["cache-control"] == "no-cache"
    again = await web.get("/static/js/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    css = await web.get("/static/app.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


@pytest.mark.parametrize(
    "path", ["/static/../__init__.py", "/static/%2e%2e/__init__.py", "/static/nope.js"]
)
async def test_nothing_outside_the_static_folder(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 404


def test_the_html_has_no_inline_script_or_style() -> None:
    html = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.DOTALL)
    assert scripts
    for attributes, body in scripts:
        assert "src=" in attributes
        assert not body.strip(), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle\s*=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_never_parse_html_or_evaluate_strings(script: Path) -> None:
    source = script.read_text()
    for banned in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "localStorage",
        "sessionStorage",
        'setAttribute("style',
    ):
        assert banned not in source, f"{script.name} uses {banned}"
    assert len(source.splitlines()) <= 400, f"{script.name} is past 400 lines"


def test_every_imported_module_exists() -> None:
    for script in SCRIPTS:
        for target in re.findall(
            r"""(?:from|import)\s*\(?\s*["'](\.[^"']+)["']""", script.read_text()
        ):
            assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}"


UPLOT = STATIC / "vendor" / "uplot"


def test_the_chart_library_is_vendored_pinned_with_its_license() -> None:
    assert "uplot 1.6.32 (npm), MIT" in (UPLOT / "VERSION").read_text()
    assert "MIT License" in (UPLOT / "LICENSE").read_text()
    source = (UPLOT / "uPlot.esm.js").read_text()
    for banned in ("innerHTML", "eval(", "new Function", "document.write"):
        assert banned not in source
    charts = (STATIC / "js" / "charts.js").read_text()
    assert '"../vendor/uplot/uPlot.esm.js"' in charts
    assert "http" not in charts  # no CDN


async def test_the_chart_library_is_served_from_this_origin(web: httpx.AsyncClient) -> None:
    script = await web.get("/static/vendor/uplot/uPlot.esm.js")
    css = await web.get("/static/vendor/uplot/uPlot.min.css")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert css.status_code == 200
    assert "script-src 'self'" in script.headers["content-security-policy"]
