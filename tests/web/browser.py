"""Debian's Chromium driven by Playwright: installed by apt when missing, never downloaded."""

from __future__ import annotations

import shutil
import subprocess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> str:
    """The Chromium binary, installed with apt-get on first use (the test command does it)."""
    if shutil.which("chromium") is None:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
            check=True,
            env=env,
            capture_output=True,
            timeout=900,
        )
    return CHROMIUM
