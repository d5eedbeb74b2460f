"""Which account a provider's answer signs in: by the issuer's stable subject; else by
email only when the provider says the email is verified. Linked identities can be listed
and unlinked, but never the last way to sign in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.models import OidcIdentity, User
from netra.auth.oidc.config import ProviderConfig
from netra.db.base import utcnow
from netra.errors import BadRequest, Conflict, Forbidden, NotFound


def verified_email(claims: dict[str, Any]) -> tuple[str | None, bool]:
    """The normalised email of the claims, and whether the provider vouches for it."""
    raw = claims.get("email")
    try:
        email = normalize_email(raw) if isinstance(raw, str) else None
    except EmailRejected:
        email = None
    return email, claims.get("email_verified") in (True, "true")


class IdentityLinks:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db

    async def resolve(
        self, provider: ProviderConfig, claims: dict[str, Any], ip: str | None
    ) -> User:
        """The user these claims sign in, linking or creating the account if allowed."""
        try:
            return await self._resolve(provider, claims, ip)
        except IntegrityError:  # a concurrent first sign-in linked it meanwhile
            return await self._resolve(provider, claims, ip)

    async def _resolve(
        self, provider: ProviderConfig, claims: dict[str, Any], ip: str | None
    ) -> User:
        subject = str(claims["sub"])
        email, verified = verified_email(claims)
        async with self._db() as db, db.begin():
            found = (
                await db.execute(
                    select(OidcIdentity, User)
                    .join(User, OidcIdentity.user_id == User.id)
                    .where(OidcIdentity.issuer == provider.issuer, OidcIdentity.subject == subject)
                )
            ).one_or_none()
            if found is not None:
                identity, user = found
                identity.last_login_at = utcnow()
                identity.email = email or identity.email
                return _active(user)
            if email is None:
                raise BadRequest(
                    f"{provider.display_name} shared no usable email address; "
                    "Netra needs one to create the account (is the `email` scope requested?)",
                    reason="email_required",
                )
            existing = await db.scalar(select(User).where(User.email == email))
            if not verified:
                refusal = Conflict if existing is not None else Forbidden
                raise refusal(
                    f"{provider.display_name} does not confirm that {email} is yours, so it "
                    + (
                        "is not linked to the existing account with that address: sign in "
                        "with its password instead"
                        if existing is not None
                        else "cannot be used to create an account"
                    ),
                    reason="email_not_verified",
                )
            account = existing
            if account is None:
                account = User(
                    email=email,
                    name=str(claims.get("name") or "")[:200] or None,
                    password_hash=None,
                    role="user",
                    created_at=utcnow(),
                )
                db.add(account)
                await db.flush()
                audit.record(db, "register", user_id=account.id, ip=ip, method=provider.name)
            db.add(
                OidcIdentity(
                    user_id=account.id,
                    provider=provider.name,
                    issuer=provider.issuer,
                    subject=subject,
                    email=email,
                    last_login_at=utcnow(),
                )
            )
            audit.record(db, "oidc_linked", user_id=account.id, ip=ip, provider=provider.name)
            return _active(account)

    async def list(self, user_id: str) -> list[OidcIdentity]:
        async with self._db() as db:
            rows = await db.scalars(
                select(OidcIdentity)
                .where(OidcIdentity.user_id == user_id)
                .order_by(OidcIdentity.created_at)
            )
            return list(rows)

    async def unlink(self, user_id: str, identity_id: str, ip: str | None) -> None:
        """Remove one linked identity unless it is the account's last way to sign in."""
        async with self._db() as db, db.begin():
            identity = await db.get(OidcIdentity, identity_id[:36])
            user = await db.get(User, user_id)
            if identity is None or user is None or identity.user_id != user_id:
                raise NotFound("no linked provider of yours has this id")
            count = await db.scalar(
                select(func.count())
                .select_from(OidcIdentity)
                .where(OidcIdentity.user_id == user_id)
            )
            if user.password_hash is None and (count or 0) <= 1:
                raise Conflict(
                    f"{identity.provider} is this account's only way to sign in; link another "
                    "provider (or set a password) before unlinking it",
                    reason="last_sign_in_method",
                )
            await db.delete(identity)
            audit.record(db, "oidc_unlinked", user_id=user_id, ip=ip, provider=identity.provider)


def _active(user: User) -> User:
    if not user.is_active:
        raise Forbidden("this account is disabled", reason="account_disabled")
    return user
