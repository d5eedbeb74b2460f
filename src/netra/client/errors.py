"""What the SDK raises: the server's status and message, never a bare timeout."""

from __future__ import annotations


class NetraError(Exception):
    """An HTTP request the server refused; `status` and its `detail`, as sent."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class MfaRequired(NetraError):
    """The password was right and the account has a second factor: finish with
    `NetraClient.complete_sign_in(mfa_token, code=...)` (or pass `totp=` to `sign_in`)."""

    def __init__(self, mfa_token: str, methods: list[str]) -> None:
        super().__init__(401, f"a second factor is required ({', '.join(methods)})")
        self.mfa_token = mfa_token
        self.methods = methods


class StreamClosed(Exception):
    """The server closed the event stream for a reason reconnecting cannot fix."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"stream closed {code}: {reason}")
        self.code = code
        self.reason = reason
