"""A real web server (`python -m http.server`) serving a folder: what answers HTML where
Netra expects JSON (a login wall, a proxy, a wrong URL)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from netra.testing import free_port, wait_ready


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """`folder` served on a free 127.0.0.1 port until the block ends; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout=10, process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
