"""Real Netra processes: `netra serve`/`netra up` on a port, logs in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

import httpx

from netra.testing.waiting import wait_ready

NETRA = [sys.executable, "-m", "netra.cli"]


def netra_env(home: Path, **settings: str) -> dict[str, str]:
    """A clean environment: only what the caller sets, so the scenario is exactly that
    (and this process's executable search path, which is no setting)."""
    search = os.pathsep.join(os.get_exec_path())
    return {"PATH": search, "HOME": str(home), **settings}


def run_netra(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`netra <args>` to completion, its output captured."""
    return subprocess.run(  # noqa: S603 (netra itself, the caller's arguments)
        [*NETRA, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


class NetraProcess:
    """`netra <args>` (or another `program` taking `--port`) serving on `port`; output
    goes to a file, never a pipe: a full pipe nobody reads blocks the process."""

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
        self.process = subprocess.Popen(  # noqa: S603 (the caller's program and arguments)
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
        """SIGTERM (a drain), SIGKILL after 20 s; the exit code."""
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
        """Everything the process wrote so far (all of it once stopped)."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def wait_for(self, path: str, status: int = 200, timeout: float = 60) -> httpx.Response:
        """Poll until `path` answers `status`; fail naming the last answer and the logs."""
        return wait_ready(
            self.url + path, status=status, timeout=timeout, process=self.process, log=self.log_path
        )
