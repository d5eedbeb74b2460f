"""What the SDK raises: the server's status and message, never a bare timeout."""

from __future__ import annotations


class NetraError(Exception):
    """An HTTP request the server refused; `status` and its `detail`, as sent."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class StreamClosed(Exception):
    """The server closed the event stream for a reason reconnecting cannot fix."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"stream closed {code}: {reason}")
        self.code = code
        self.reason = reason
