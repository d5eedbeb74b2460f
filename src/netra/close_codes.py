"""The WebSocket close codes Netra sends, each one a client can act on
(docs/protocol.md lists them; a test keeps the two equal).

Their own module because three parties share them: the chat socket, the startup gate
that refuses sockets before a process has started (netra.runtime), and the SDK that
decides from them whether to reconnect."""

from __future__ import annotations

from enum import IntEnum


class Close(IntEnum):
    """Close codes a client can act on (docs/architecture.md decision 5)."""

    GOING_AWAY = 1001  # heartbeat missed
    INTERNAL = 1011
    RESTARTING = 1012  # reconnect (to another instance) and resume
    OVERLOADED = 1013  # retry later and resume
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401  # missing, invalid or expired token: get a fresh one
    FORBIDDEN = 4403
    TOO_BIG = 4413
    RATE_LIMITED = 4429
