"""Accounts: registration, password sign-in (rate-limited, no user enumeration) and
password changes. Sessions begin through `Sessions.start`, like every login method."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.errors import AuthError, unauthorized
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.models import User
from netra.auth.passwords import PasswordRejected, Passwords
from netra.auth.sessions import ClientInfo, IssuedTokens, Sessions
from netra.auth.signin_limits import RateLimiter, retry_after
from netra.db.base import utcnow
from netra.health.metrics import Metrics
from netra.settings import Environment, Settings

log = logging.getLogger("netra.auth")
BAD_CREDENTIALS = "the email or the password is wrong"


def too_many(seconds: float, what: str) -> AuthError:
    return AuthError(
        429,
        "rate_limited",
        f"too many {what}; try again in {retry_after(seconds)} seconds",
        {"Retry-After": retry_after(seconds)},
    )


class Accounts:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        passwords: Passwords,
        session_service: Sessions,
        limiter: RateLimiter,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self._db = db
        self.passwords = passwords
        self.sessions = session_service
        self.limiter = limiter

    async def limit_ip(self, action: str, client: ClientInfo) -> None:
        """Count a sign-in or registration attempt from `client`'s address; 429 past
        LOGIN_LIMIT_PER_IP within the window."""
        count, left = await self.limiter.count(
            f"{action}:ip:{client.ip}", self.settings.login_limit_window
        )
        if count > self.settings.login_limit_per_ip:
            raise too_many(left, f"{action} attempts from this address")

    async def register(
        self, email: str, password: str, name: str | None, client: ClientInfo
    ) -> str:
        """Create the account unless it exists; answers alike either way (no enumeration).
        Returns the normalised email."""
        await self.limit_ip("register", client)
        try:
            normalized = normalize_email(email)
            self.passwords.check_policy(password, normalized)
        except (EmailRejected, PasswordRejected) as exc:
            raise AuthError(422, "invalid_request", str(exc)) from None
        password_hash = await self.passwords.hash(password)
        try:
            async with self._db() as db, db.begin():
                first = self.settings.environment is Environment.DEVELOPMENT and not (
                    await db.scalar(select(func.count()).select_from(User))
                )
                user = User(
                    email=normalized,
                    name=(name or None),
                    password_hash=password_hash,
                    role="admin" if first else "user",
                    created_at=utcnow(),
                    password_changed_at=utcnow(),
                )
                db.add(user)
                await db.flush()
                audit.record(db, "register", user_id=user.id, ip=client.ip, admin=first)
        except IntegrityError:
            async with self._db() as db, db.begin():
                audit.record(db, "register_existing_email", ip=client.ip)
        return normalized

    async def login(self, email: str, password: str, client: ClientInfo) -> IssuedTokens:
        """Password sign-in: same answer and similar time for unknown emails and wrong
        passwords; per-IP and per-account limits, the latter blind to the IP."""
        await self.limit_ip("login", client)
        try:
            normalized: str | None = normalize_email(email)
        except EmailRejected:
            normalized = None
        account_key = f"login:account:{normalized or 'invalid'}"
        failures, left = await self.limiter.current(account_key)
        if failures >= self.settings.login_limit_per_account:
            self.metrics.logins.labels("throttled").inc()
            raise too_many(left, "failed sign-ins for this account")
        user = None
        if normalized is not None:
            async with self._db() as db:
                user = await db.scalar(select(User).where(User.email == normalized))
        stored = user.password_hash if user is not None else None
        if not await self.passwords.verify(stored, password) or user is None:
            await self.limiter.count(account_key, self.settings.login_limit_window)
            async with self._db() as db, db.begin():
                audit.record(db, "login_failed", user_id=user.id if user else None, ip=client.ip)
            self.metrics.logins.labels("failure").inc()
            raise unauthorized("invalid_credentials", BAD_CREDENTIALS)
        if not user.is_active:
            self.metrics.logins.labels("disabled").inc()
            raise unauthorized("account_disabled", "this account is disabled")
        self.metrics.logins.labels("success").inc()
        await self.limiter.reset(account_key)
        if stored is not None and self.passwords.needs_rehash(stored):
            await self._store_password(user.id, password)
        return await self.sessions.start(user, method="password", client=client)

    async def _store_password(self, user_id: str, password: str) -> None:
        new_hash = await self.passwords.hash(password)
        async with self._db() as db, db.begin():
            user = await db.get(User, user_id)
            if user is not None:
                user.password_hash = new_hash

    async def change_password(
        self, user_id: str, session_id: str | None, current: str, new: str, client: ClientInfo
    ) -> int:
        """Change the password; every other session is revoked. Returns how many."""
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not await self.passwords.verify(user.password_hash, current):
            raise AuthError(403, "invalid_credentials", "the current password is wrong")
        try:
            self.passwords.check_policy(new, user.email)
        except PasswordRejected as exc:
            raise AuthError(422, "invalid_request", str(exc)) from None
        new_hash = await self.passwords.hash(new)
        async with self._db() as db, db.begin():
            row = await db.get(User, user_id)
            if row is None:
                raise unauthorized("unknown_user", "this account no longer exists")
            row.password_hash, row.password_changed_at = new_hash, utcnow()
            revoked = await self.sessions.revoke_sessions(
                db, user_id, "password_changed", keep=session_id
            )
            audit.record(
                db, "password_changed", user_id=user_id, ip=client.ip, revoked=len(revoked)
            )
        return len(revoked)
