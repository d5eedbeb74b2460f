"""Real Netra processes for tests: `netra serve`/`netra up` on free ports, logs in files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

NETRA = [sys.executable, "-m", "netra.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def netra_env(home: Path, **settings: str) -> dict[str, str]:
    """A clean environment: only what the test sets, so the scenario is exactly that."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **settings}


def run_netra(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NETRA, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


class NetraProcess:
    """`netra <args>` (or another `program` taking `--port`) serving on `port`; logs go to
    a file (a full pipe would block it)."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        port: int,
        log_path: Path,
        program: list[str] = NETRA,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*program, *args, "--port", str(port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def __enter__(self) -> NetraProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    @staticmethod
    def wait_until_listening(port: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")

    def wait_for(self, path: str, status: int = 200, timeout: float = 60) -> httpx.Response:
        """Poll until `path` answers `status`; fail naming the last answer and the logs."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"process exited {self.process.returncode}:\n{self.logs()}")
            try:
                response = httpx.get(self.url + path, timeout=2)
                if response.status_code == status:
                    return response
                last = f"{response.status_code} {response.text[:300]}"
            except httpx.TransportError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise AssertionError(f"{path} never answered {status}; last: {last}\n{self.logs()}")
