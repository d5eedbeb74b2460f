"""Device cookies (OWASP "Slow down online guessing with device cookies").

A successful password sign-in sets a signed, HttpOnly cookie naming the account and a
random device id. Failed sign-ins from a browser without one are limited per account;
a browser holding a valid cookie for that account has its own small budget, so guesses
from elsewhere lock out the attacker, never the owner's browser.

The cookie is `__Host-netra_device` (Secure, Path=/, no Domain) outside development and
test; `netra_device` there, where the UI may be served over plain http.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response

from netra.auth.signed_values import derived_key, mac
from netra.settings import Settings

MAX_AGE = 365 * 86400


class DeviceCookies:
    def __init__(self, settings: Settings) -> None:
        self.secure = not settings.environment.is_local
        self.name = "__Host-netra_device" if self.secure else "netra_device"
        self._key = derived_key(settings, "device cookies")

    def cookie(self, request: Request) -> str | None:
        return request.cookies.get(self.name)

    def device(self, value: str | None, email: str | None) -> str | None:
        """The device id of a valid cookie `value` issued for `email`, or None."""
        account, _, rest = (value or "").partition(".")
        device, _, signature = rest.partition(".")
        if not (email and account and device and signature):
            return None
        if not hmac.compare_digest(signature, self._sign(account, device)):
            return None
        return device if hmac.compare_digest(account, _account(email)) else None

    def remember(self, request: Request, response: Response, email: str) -> None:
        """A browser finished a sign-in to `email` (a password, with its code if asked, or
        a passkey): (re)issue its cookie, keeping the device id it already had."""
        device = self.device(self.cookie(request), email) or secrets.token_urlsafe(16)
        account = _account(email)
        response.set_cookie(
            self.name,
            f"{account}.{device}.{self._sign(account, device)}",
            max_age=MAX_AGE,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def _sign(self, account: str, device: str) -> str:
        return mac(self._key, f"{account}.{device}")


def _account(email: str) -> str:
    # The email is hashed so that the cookie does not carry it in clear.
    digest = hashlib.sha256(email.encode()).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()
