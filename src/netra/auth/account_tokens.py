"""Single-use tokens handed to a user: email verification (24 h), password reset
(30 min), the second step of a sign-in (5 min). 256 random bits; only the SHA-256 is
stored; consumed with a conditional UPDATE, so of two concurrent uses exactly one wins."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from netra.auth.models import AccountToken
from netra.auth.sessions import hash_token
from netra.db.base import utcnow
from netra.errors import BadRequest, Unauthorized

VERIFY_EMAIL = "verify_email"
CHANGE_EMAIL = "change_email"
PASSWORD_RESET = "password_reset"
MFA_CHALLENGE = "mfa_challenge"
TTL = {
    VERIFY_EMAIL: timedelta(hours=24),
    CHANGE_EMAIL: timedelta(hours=24),
    PASSWORD_RESET: timedelta(minutes=30),
    MFA_CHALLENGE: timedelta(minutes=5),
}
MAX_TOKEN_LENGTH = 200


def token_error(reason: str, message: str) -> BadRequest:
    return BadRequest(message, reason=reason)


def issue(
    db: AsyncSession,
    user_id: str,
    purpose: str,
    *,
    email: str | None = None,
    first_factor: str | None = None,
    pending_link: str | None = None,
) -> str:
    """Add a token of `purpose` for `user_id` to `db`'s transaction; returns the token.
    An MFA challenge keeps the sign-in it continues (`first_factor`, `pending_link`)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(
        AccountToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=hash_token(token),
            email=email,
            first_factor=first_factor,
            pending_link=pending_link,
            expires_at=now + TTL[purpose],
            created_at=now,
        )
    )
    return token


async def consume(db: AsyncSession, token: str, purposes: tuple[str, ...]) -> AccountToken:
    """Use a token of one of `purposes` once, in `db`'s transaction, or raise 400 saying
    why: `invalid_token` (unknown, altered, or made for something else), `token_expired`,
    `token_used`."""
    invalid = token_error("invalid_token", "this link or code is not valid")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    digest, now = hash_token(token), utcnow()
    used = await db.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == digest,
            AccountToken.purpose.in_(purposes),
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
    )
    row = await db.scalar(select(AccountToken).where(AccountToken.token_hash == digest))
    if row is None or row.purpose not in purposes:
        raise invalid
    if getattr(used, "rowcount", 0) != 1:
        if row.used_at is not None:
            raise token_error("token_used", "this link or code was already used")
        raise token_error("token_expired", "this link or code has expired; ask for a new one")
    return row


async def peek(db: AsyncSession, token: str, purpose: str) -> AccountToken:
    """A live token of `purpose`, not spent (the caller spends it with `consume` once the
    rest has succeeded), or 401 saying why."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("this token is not valid", reason="invalid_token")
    row = await db.scalar(select(AccountToken).where(AccountToken.token_hash == hash_token(token)))
    if row is None or row.purpose != purpose:
        raise Unauthorized("this token is not valid", reason="invalid_token")
    if row.used_at is not None:
        raise Unauthorized("this token was already used", reason="token_used")
    if row.expires_at <= utcnow():
        raise Unauthorized("this token has expired; start again", reason="token_expired")
    return row
