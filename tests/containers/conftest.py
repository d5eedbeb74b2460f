"""The images every container test uses, built once per machine (cached by podman and
under ~/.cache/netra, keyed by what they are made from)."""

from __future__ import annotations

import time

import pytest

from netra.deploy.offline import build_offline
from tests.containers.podman import IMAGE, ensure_packages
from tests.support.deploy import REPO


@pytest.fixture(scope="session")
def netra_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The root Containerfile on a Debian base, built with no network."""
    ensure_packages()
    log = tmp_path_factory.mktemp("build") / "build.log"
    started = time.monotonic()
    digest = build_offline([IMAGE], REPO, log)
    print(f"netra image {IMAGE} {digest} built in {time.monotonic() - started:.1f} s")
    return IMAGE
