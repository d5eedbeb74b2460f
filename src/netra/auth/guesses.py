"""Guesses at an account's secrets, counted before they are checked (docs/auth.md, "Rate
limits"): the one budget that password sign-in, the second step's codes and every
reauthentication (current password, or an authenticator code) share, so that parallel
guesses cannot all pass a check made before any was counted, and no endpoint is a way
around the sign-in limit."""

from __future__ import annotations

from netra.auth.devices import DeviceCookies
from netra.auth.models import User
from netra.auth.passwords import Passwords
from netra.auth.signin_limits import RateLimiter
from netra.errors import TooManyAttempts, whole_seconds
from netra.health.metrics import Metrics
from netra.settings import Settings


def too_many(seconds: float, what: str) -> TooManyAttempts:
    return TooManyAttempts(
        f"too many {what}; try again in {whole_seconds(seconds)} seconds", retry_after=seconds
    )


class Guesses:
    def __init__(
        self, settings: Settings, limiter: RateLimiter, passwords: Passwords, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.limiter = limiter
        self.passwords = passwords
        self.metrics = metrics
        self.devices = DeviceCookies(settings)

    async def reserve(self, email: str | None, device_cookie: str | None) -> str:
        """Count one guess against `email` before it is checked. A browser with the
        account's device cookie spends its own small budget, any other the account's.
        429 past the budget; returns the key to `release` if the guess was right."""
        device = self.devices.device(device_cookie, email)
        window = self.settings.login_limit_window
        if device is not None:
            key, budget = f"login:device:{email}:{device}", self.settings.login_limit_per_device
        else:
            key, budget = (
                f"login:account:{email or 'invalid'}",
                self.settings.login_limit_per_account,
            )
        count, left = await self.limiter.count(key, window)
        if count > budget:
            self.metrics.logins.labels("throttled").inc()
            where = "this browser" if device else "unrecognised browsers"
            raise too_many(left, f"failed sign-ins to this account from {where}")
        return key

    async def release(self, key: str) -> None:
        """A right guess is given back."""
        await self.limiter.release(key)

    async def password(self, user: User, password: str | None, device_cookie: str | None) -> bool:
        """Whether `password` is `user`'s, the guess counted like a sign-in's."""
        key = await self.reserve(user.email, device_cookie)
        if not password or not await self.passwords.verify(user.password_hash, password):
            return False
        await self.release(key)
        return True
