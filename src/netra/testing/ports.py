"""Ports on 127.0.0.1: one nobody listens on, and waiting until somebody does."""

from __future__ import annotations

import socket

from netra.testing.waiting import wait_until

HOST = "127.0.0.1"


def free_port() -> int:
    """A port no one listens on right now (the OS picks it; a race is possible but rare)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def wait_listening(port: int, timeout: float = 30.0) -> None:
    """Return once something accepts connections on `port`, else raise TimeoutError."""
    wait_until(lambda: listening(port) or None, timeout, f"nothing listens on {HOST}:{port}")
