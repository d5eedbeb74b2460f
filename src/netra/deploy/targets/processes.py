"""Processes of the local target: started detached, known by pid, stopped by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def alive(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it if it exited
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def spawn(argv: Sequence[str], env: Mapping[str, str], log: Path) -> int:
    """Start `argv` in its own session (it outlives this command), output to `log`."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (argv built by the local target)
            list(argv),
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process.pid


def stop(pid: int, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: more than a backend takes to let its
    runs finish and close its sockets (netra.chat.component.DRAIN_GRACE)."""
    if not alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.02)
