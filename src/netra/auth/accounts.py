"""Accounts: registration, password sign-in (rate-limited, no user enumeration) and
password changes. Sessions begin through `Sessions.start`, like every login method."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import account_tokens, audit
from netra.auth.account_tokens import MFA_CHALLENGE
from netra.auth.audit import ClientInfo
from netra.auth.guesses import Guesses, too_many
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.mail import messages
from netra.auth.mfa import Mfa
from netra.auth.models import User
from netra.auth.oidc.linking import IdentityLinks, PendingLink
from netra.auth.passwords import PasswordRejected, Passwords
from netra.auth.sessions import IssuedTokens, Sessions
from netra.auth.signin_limits import RateLimiter, address_bucket
from netra.auth.verification import EmailVerification
from netra.db.base import utcnow
from netra.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    Unauthorized,
)
from netra.health.metrics import Metrics
from netra.settings import Environment, Settings

log = logging.getLogger("netra.auth")
BAD_CREDENTIALS = "the email or the password is wrong"
MFA_METHODS = ("totp", "recovery_code")


@dataclass(frozen=True)
class MfaChallenge:
    """The answer to a right password on an account with a second factor."""

    mfa_token: str
    methods: tuple[str, ...]


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
            user.email_verified_at = utcnow()  # an operator vouches for the address
            session.add(user)
            outcome = "created"
        user.role, user.is_active, user.disabled_at = "admin", True, None
        await session.flush()
        audit.record(session, "admin_granted", None, user_id=user.id, actor="cli")
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
        guesses: Guesses,
        verification: EmailVerification,
        mfa: Mfa,
        metrics: Metrics | None = None,
    ) -> None:
        self.guesses = guesses
        self.devices = guesses.devices
        self.settings = settings
        self.metrics = metrics if metrics is not None else Metrics()
        self._db = db
        self.passwords = passwords
        self.sessions = session_service
        self.limiter = limiter
        self.verification = verification
        self.mfa = mfa
        self.outbox = verification.outbox
        self.links = IdentityLinks(db)

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
                audit.record(db, "register", client, user_id=user.id, admin=first)
                self.verification.queue(db, user)
        except IntegrityError:
            async with self._db() as db, db.begin():
                audit.record(db, "register_existing_email", client)
        self.outbox.wake()
        return normalized

    async def login(
        self, email: str, password: str, client: ClientInfo, device_cookie: str | None = None
    ) -> IssuedTokens | MfaChallenge:
        """Password sign-in: same answer and similar time for unknown emails and wrong
        passwords; per-IP limits, and per-account limits blind to the IP that spare the
        browsers holding the account's device cookie (netra.auth.devices)."""
        await self.limit_ip("login", client)
        try:
            normalized: str | None = normalize_email(email)
        except EmailRejected:
            normalized = None
        key = await self.guesses.reserve(normalized, device_cookie)
        user = None
        if normalized is not None:
            async with self._db() as db:
                user = await db.scalar(select(User).where(User.email == normalized))
        stored = user.password_hash if user is not None else None
        if not await self.passwords.verify(stored, password) or user is None:
            async with self._db() as db, db.begin():
                audit.record(db, "login_failed", client, user_id=user.id if user else None)
            self.metrics.logins.labels("failure").inc()
            raise Unauthorized(BAD_CREDENTIALS, reason="invalid_credentials")
        await self.guesses.release(key)
        if not user.is_active:
            self.metrics.logins.labels("disabled").inc()
            raise Unauthorized("this account is disabled", reason="account_disabled")
        if self.settings.require_verified_email and user.email_verified_at is None:
            await self._unverified(user, client)
        if stored is not None and self.passwords.needs_rehash(stored):
            await self._store_password(user.id, password)
        signed_in = await self.sign_in(user, "password", client)
        if not isinstance(signed_in, MfaChallenge):
            self.metrics.logins.labels("success").inc()
        return signed_in

    async def sign_in(
        self, user: User, method: str, client: ClientInfo, *, link: PendingLink | None = None
    ) -> IssuedTokens | MfaChallenge:
        """Where every first factor ends (a password, an OIDC sign-in, the password that
        links a provider): an account with a second factor gets a single-use challenge
        and no session, and a provider `link` waits for the code too; any other account
        gets its session now. A passkey is two factors and starts its session directly."""
        async with self._db() as db, db.begin():
            if await self.mfa.enabled(db, user.id):
                # No session yet; each code guess is reserved like a password guess.
                token = account_tokens.issue(
                    db,
                    user.id,
                    MFA_CHALLENGE,
                    email=user.email,
                    first_factor=method,
                    pending_link=json.dumps(asdict(link)) if link is not None else None,
                )
                audit.record(
                    db,
                    "login_mfa_challenge",
                    client,
                    user_id=user.id,
                    first_factor=method,
                )
                return MfaChallenge(token, MFA_METHODS)
        if link is not None:
            user = await self.links.link(link, client)
        return await self.sessions.start(user, method=method, client=client)

    async def login_mfa(
        self,
        token: str,
        code: str | None,
        recovery_code: str | None,
        client: ClientInfo,
        device_cookie: str | None = None,
    ) -> tuple[IssuedTokens, str]:
        """The second step: the challenge token of the first and a code or a recovery
        code; the tokens and the account's email. Each code is a guess reserved by
        `Guesses.reserve`, from the same budget as the account's (or this browser's)
        password guesses, so parallel code guesses cannot outrun the limit either."""
        await self.limit_ip("login", client)
        async with self._db() as db:
            challenge = await account_tokens.peek(db, token, MFA_CHALLENGE)
            user = await db.get(User, challenge.user_id)
        if user is None or not user.is_active or user.email != challenge.email:
            raise Unauthorized(
                "this sign-in cannot be completed; start again", reason="invalid_token"
            )
        key = await self.guesses.reserve(user.email, device_cookie)
        async with self._db() as db, db.begin():
            method = await self.mfa.verify(db, user.id, code=code, recovery_code=recovery_code)
            if method is not None:
                await account_tokens.consume(db, token, (MFA_CHALLENGE,))
        if method is None:
            async with self._db() as db, db.begin():
                audit.record(db, "login_failed", client, user_id=user.id, step="mfa")
            self.metrics.logins.labels("failure").inc()
            raise Unauthorized("the code is wrong or was already used", reason="invalid_code")
        await self.guesses.release(key)
        if challenge.pending_link is not None:  # the OIDC link the password asked for
            pending = PendingLink(**json.loads(challenge.pending_link))
            user = await self.links.link(pending, client)
        self.metrics.logins.labels("success").inc()
        first = challenge.first_factor or "password"
        issued = await self.sessions.start(user, method=f"{first}+{method}", client=client)
        return issued, user.email

    async def _unverified(self, user: User, client: ClientInfo) -> None:
        """Refuse the sign-in, and mail a fresh link (within the resend limit): accounts
        made before verification existed find their way in without asking."""
        sent = await self.verification.allowed(user.id) is None
        async with self._db() as db, db.begin():
            if sent:
                self.verification.queue(db, user)
            audit.record(db, "login_unverified", client, user_id=user.id, mailed=sent)
        self.outbox.wake()
        self.metrics.logins.labels("unverified").inc()
        raise Forbidden(
            f"confirm {user.email} first: use the link mailed to it"
            + (" (a new one is on its way)" if sent else ""),
            reason="email_not_verified",
        )

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
        return await self.guesses.password(user, password, device_cookie)

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
            audit.account_change(
                db,
                "password_changed",
                client,
                user_id=user_id,
                outbox=self.outbox,
                notice=messages.notice(
                    "password_changed",
                    row.email,
                    "Your password was changed",
                    "The password of your Netra account was changed; every other session "
                    "was signed out.",
                ),
                revoked=len(revoked),
            )
        self.outbox.wake()
        return len(revoked)
