"""Forgotten passwords. `forgot` is called after the answer has gone (the route hands it
to a background task), so the answer, its body and its time are the same whether or not
the address has an account. Using a link sets the password, ends every session and API
key, and mails a notice."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import account_tokens, audit
from netra.auth.account_tokens import PASSWORD_RESET, token_error
from netra.auth.api_key_store import ApiKeys
from netra.auth.audit import ClientInfo
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.mail import messages
from netra.auth.mail.outbox import Outbox
from netra.auth.models import AccountToken, User
from netra.auth.passwords import PasswordRejected, Passwords
from netra.auth.sessions import Sessions, hash_token
from netra.auth.signin_limits import RateLimiter
from netra.db.base import utcnow
from netra.errors import InvalidRequest, NotFound
from netra.settings import Settings

log = logging.getLogger("netra.auth")
# Reset mails per address per window; past it the answer stays 202 and nothing is sent.
MAILS_PER_ADDRESS = 3
ADDRESS_WINDOW = 3600.0


class PasswordResets:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        *,
        passwords: Passwords,
        sessions: Sessions,
        api_keys: ApiKeys,
        outbox: Outbox,
        limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self._db = db
        self.passwords = passwords
        self.sessions = sessions
        self.api_keys = api_keys
        self.outbox = outbox
        self.limiter = limiter

    async def forgot(self, email: str, client: ClientInfo) -> None:
        """Mail a reset link if `email` has an account (at most MAILS_PER_ADDRESS an hour)."""
        try:
            normalized = normalize_email(email)
        except EmailRejected:
            return
        count, _ = await self.limiter.count(f"forgot:address:{normalized}", ADDRESS_WINDOW)
        async with self._db() as db, db.begin():
            user = await db.scalar(
                select(User).where(User.email == normalized, User.deleted_at.is_(None))
            )
            if user is None:
                audit.record(db, "password_reset_unknown_email", client)
                return
            if count > MAILS_PER_ADDRESS:
                audit.record(db, "password_reset_throttled", client, user_id=user.id)
                return
            self._queue(db, user)
            audit.record(db, "password_reset_requested", client, user_id=user.id)
        self.outbox.wake()

    def _queue(self, db: AsyncSession, user: User) -> None:
        token = account_tokens.issue(db, user.id, PASSWORD_RESET, email=user.email)
        self.outbox.add(
            db, messages.password_reset(self.settings, user.email, token), user_id=user.id
        )

    async def send_link(self, user_id: str, actor: str, client: ClientInfo) -> User:
        """An admin mails an account a reset link."""
        async with self._db() as db, db.begin():
            user = await db.get(User, user_id[:36])
            if user is None or user.deleted_at is not None:
                raise NotFound("no account has this id", reason="not_found")
            self._queue(db, user)
            audit.record(db, "password_reset_sent_by_admin", client, user_id=user.id, actor=actor)
        self.outbox.wake()
        return user

    async def reset(self, token: str, new_password: str, client: ClientInfo) -> int:
        """Use a reset link: set the password, end every session and API key. Returns how
        many sessions ended."""
        user = await self._owner(token)
        try:
            self.passwords.check_policy(new_password, user.email)
        except PasswordRejected as exc:
            raise InvalidRequest(str(exc), reason="invalid_request") from None
        new_hash = await self.passwords.hash(new_password)
        async with self._db() as db, db.begin():
            row = await account_tokens.consume(db, token, (PASSWORD_RESET,))
            user = await db.get(User, row.user_id) or user
            _still_valid(row, user)
            now = utcnow()
            user.password_hash, user.password_changed_at = new_hash, now
            # The link reached this address: that verifies it.
            user.email_verified_at = user.email_verified_at or now
            revoked = await self.sessions.revoke_sessions(db, user.id, "password_reset")
            await self.api_keys.revoke(db, user.id)
            audit.account_change(
                db,
                "password_reset",
                client,
                user_id=user.id,
                outbox=self.outbox,
                notice=messages.notice(
                    "password_changed",
                    user.email,
                    "Your password was changed",
                    "The password of your Netra account was reset with a link mailed to this "
                    "address. Every session and API key of the account has been signed out.",
                ),
                revoked=len(revoked),
            )
        self.outbox.wake()
        return len(revoked)

    async def _owner(self, token: str) -> User:
        """The account a reset token belongs to, before spending it (the new password is
        checked against the account's email, and a weak one must not burn the link)."""
        if not token or len(token) > account_tokens.MAX_TOKEN_LENGTH:
            raise token_error("invalid_token", "this link or code is not valid")
        async with self._db() as db:
            row = await db.scalar(
                select(AccountToken).where(AccountToken.token_hash == hash_token(token))
            )
            user = await db.get(User, row.user_id) if row is not None else None
        if row is None or user is None or row.purpose != PASSWORD_RESET:
            raise token_error("invalid_token", "this link or code is not valid")
        return user


def _still_valid(row: AccountToken, user: User) -> None:
    """A link stops working once the password changed another way, or the address did."""
    changed = user.password_changed_at
    if (
        user.deleted_at is not None
        or row.email != user.email
        or (changed is not None and changed > row.created_at)
    ):
        raise token_error(
            "token_superseded",
            "this link is no longer valid: the account's password or address changed since",
        )


async def operator_link(
    settings: Settings, db: async_sessionmaker[AsyncSession], email: str
) -> str:
    """A one-time reset link for operators without SMTP (`netra users reset-password`)."""
    try:
        normalized = normalize_email(email)
    except EmailRejected as exc:
        raise InvalidRequest(str(exc), reason="invalid_request") from None
    async with db() as session, session.begin():
        user = await session.scalar(
            select(User).where(User.email == normalized, User.deleted_at.is_(None))
        )
        if user is None:
            raise NotFound(f"no account has the address {normalized}", reason="not_found")
        token = account_tokens.issue(session, user.id, PASSWORD_RESET, email=user.email)
        audit.record(session, "password_reset_link_by_operator", None, user_id=user.id, actor="cli")
    return messages.link(settings, messages.RESET_ROUTE, token)
