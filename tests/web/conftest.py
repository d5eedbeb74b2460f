"""Browser fixtures: Debian's Chromium under Playwright, and `netra up` as a real process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from netra.testing import NetraProcess, free_port, netra_env
from tests.support.web import NetraFactory, Pages
from tests.web.browser import CHROMIUM_ARGS, ensure_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    # Runs start within milliseconds alone; under a loaded test machine give them time.
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def start_netra(tmp_path: Path) -> Iterator[NetraFactory]:
    """`start_netra(**ENV)`: `netra up` on a free port with its data in tmp_path; the same
    call again (after `.stop()`) restarts it on the same port and data."""
    started: list[NetraProcess] = []
    port = free_port()

    def start(**env: str) -> NetraProcess:
        settings = {"ENVIRONMENT": "development", **env}
        process = NetraProcess(
            ["up", "--data-dir", str(tmp_path / "data")],
            netra_env(tmp_path, **settings),
            port,
            tmp_path / f"netra-{len(started)}.log",
        )
        started.append(process)
        process.wait_for("/health/ready", timeout=60)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def netra(start_netra: NetraFactory) -> NetraProcess:
    return start_netra()


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    made = Pages(browser)
    yield made
    for context in made.contexts:
        context.close()
    assert not made.errors, f"uncaught errors in the page: {made.errors}"
