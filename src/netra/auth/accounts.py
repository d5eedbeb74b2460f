"""Accounts: registration, password sign-in (rate-limited, no user enumeration) and
password changes. Sessions begin through `Sessions.start`, like every login method."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.devices import DeviceCookies
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.models import User
from netra.auth.passwords import PasswordRejected, Passwords
from netra.auth.sessions import ClientInfo, IssuedTokens, Sessions
from netra.auth.signin_limits import RateLimiter, address_bucket
from netra.db.base import utcnow
from netra.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    TooManyAttempts,
    Unauthorized,
    whole_seconds,
)
from netra.health.metrics import Metrics
from netra.settings import Environment, Settings

log = logging.getLogger("netra.auth")
BAD_CREDENTIALS = "the email or the password is wrong"


def too_many(seconds: float, what: str) -> TooManyAttempts:
    return TooManyAttempts(
        f"too many {what}; try again in {whole_seconds(seconds)} seconds", retry_after=seconds
    )


def new_user(email: str, password_hash: str | None, name: str | None, role: str) -> User:
    """An account row (not yet added): the one place its fields are filled in."""
    now = utcnow()
    return User(
        email=email,
        name=name or None,
        password_hash=password_hash,
        role=role,
        created_at=now,
        password_changed_at=now,
    )


async def find_account(db: async_sessionmaker[AsyncSession], email: str) -> User | None:
    """The account of a normalised email address, if there is one."""
    async with db() as session:
        user: User | None = await session.scalar(select(User).where(User.email == email))
        return user


async def grant_admin(
    db: async_sessionmaker[AsyncSession],
    passwords: Passwords,
    email: str,
    password: str | None,
    *,
    promote_existing: bool = False,
) -> str:
    """Make the account of `email` an admin (enabled), creating it with `password` when
    there is none; "created" or "promoted". The operator's command (`netra users
    create-admin`), so audited with actor "cli"."""
    if password is not None:
        try:
            passwords.check_policy(password, email)
        except PasswordRejected as exc:
            raise InvalidRequest(str(exc)) from None
    async with db() as session, session.begin():
        user = await session.scalar(select(User).where(User.email == email))
        outcome = "promoted"
        if user is not None and not promote_existing:
            # Whoever registered the address first may not be the person meant.
            raise Conflict(
                f"{email} already has an account; it was not made admin. If it is the "
                "person you mean (its audit log: GET /auth/admin/users/{id}/audit), run "
                "again with --promote",
                reason="account_exists",
            )
        if user is None:
            if password is None:
                raise InvalidRequest(f"{email} has no account yet: give it a password")
            user = new_user(email, await passwords.hash(password), None, "admin")
            session.add(user)
            outcome = "created"
        user.role, user.is_active, user.disabled_at = "admin", True, None
        await session.flush()
        audit.record(session, "admin_granted", user_id=user.id, actor="cli")
    return outcome


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
        self.devices = DeviceCookies(settings)
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
            f"{action}:ip:{address_bucket(client.ip or 'unknown')}",
            self.settings.login_limit_window,
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
            self.passwords.check_policy(password, normalized, name)
        except (EmailRejected, PasswordRejected) as exc:
            raise InvalidRequest(str(exc)) from None
        password_hash = await self.passwords.hash(password)
        try:
            async with self._db() as db, db.begin():
                first = self.settings.environment is Environment.DEVELOPMENT and not (
                    await db.scalar(select(func.count()).select_from(User))
                )
                user = new_user(normalized, password_hash, name, "admin" if first else "user")
                db.add(user)
                await db.flush()
                audit.record(db, "register", user_id=user.id, ip=client.ip, admin=first)
        except IntegrityError:
            async with self._db() as db, db.begin():
                audit.record(db, "register_existing_email", ip=client.ip)
        return normalized

    async def reserve_guess(self, email: str | None, device: str | None) -> str:
        """Count one password guess against `email` before it is verified, so that
        concurrent guesses cannot all pass a check made before any was counted. A browser
        with the account's device cookie (`device`) spends its own small budget, any other
        the account's. 429 past the budget; returns the key to release if the guess was
        right."""
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

    async def login(
        self, email: str, password: str, client: ClientInfo, device_cookie: str | None = None
    ) -> IssuedTokens:
        """Password sign-in: same answer and similar time for unknown emails and wrong
        passwords; per-IP limits, and per-account limits blind to the IP that spare the
        browsers holding the account's device cookie (netra.auth.devices)."""
        await self.limit_ip("login", client)
        try:
            normalized: str | None = normalize_email(email)
        except EmailRejected:
            normalized = None
        key = await self.reserve_guess(normalized, self.devices.device(device_cookie, normalized))
        user = None
        if normalized is not None:
            async with self._db() as db:
                user = await db.scalar(select(User).where(User.email == normalized))
        stored = user.password_hash if user is not None else None
        if not await self.passwords.verify(stored, password) or user is None:
            async with self._db() as db, db.begin():
                audit.record(db, "login_failed", user_id=user.id if user else None, ip=client.ip)
            self.metrics.logins.labels("failure").inc()
            raise Unauthorized(BAD_CREDENTIALS, reason="invalid_credentials")
        await self.limiter.release(key)
        if not user.is_active:
            self.metrics.logins.labels("disabled").inc()
            raise Unauthorized("this account is disabled", reason="account_disabled")
        self.metrics.logins.labels("success").inc()
        if stored is not None and self.passwords.needs_rehash(stored):
            await self._store_password(user.id, password)
        return await self.sessions.start(user, method="password", client=client)

    async def _store_password(self, user_id: str, password: str) -> None:
        new_hash = await self.passwords.hash(password)
        async with self._db() as db, db.begin():
            user = await db.get(User, user_id)
            if user is not None:
                user.password_hash = new_hash

    async def check_password(
        self, user: User, password: str | None, device_cookie: str | None
    ) -> bool:
        """Whether `password` is `user`'s, the guess counted like a sign-in's."""
        key = await self.reserve_guess(user.email, self.devices.device(device_cookie, user.email))
        if not password or not await self.passwords.verify(user.password_hash, password):
            return False
        await self.limiter.release(key)
        return True

    async def change_password(
        self,
        user_id: str,
        session_id: str | None,
        current: str,
        new: str,
        client: ClientInfo,
        *,
        device_cookie: str | None = None,
    ) -> int:
        """Change the password; every other session is revoked. Returns how many."""
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not await self.check_password(user, current, device_cookie):
            raise Forbidden("the current password is wrong", reason="invalid_credentials")
        try:
            self.passwords.check_policy(new, user.email, user.name)
        except PasswordRejected as exc:
            raise InvalidRequest(str(exc)) from None
        new_hash = await self.passwords.hash(new)
        async with self._db() as db, db.begin():
            row = await db.get(User, user_id)
            if row is None:
                raise Unauthorized("this account no longer exists", reason="unknown_user")
            row.password_hash, row.password_changed_at = new_hash, utcnow()
            revoked = await self.sessions.revoke_sessions(
                db, user_id, "password_changed", keep=session_id
            )
            audit.record(
                db, "password_changed", user_id=user_id, ip=client.ip, revoked=len(revoked)
            )
        return len(revoked)
