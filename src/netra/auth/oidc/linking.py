"""Which account a provider's answer signs in: by the issuer's stable subject; a new
account for an email the provider verified; an existing account with that email only
when Netra verified that account's email too and the provider is trusted with emails
(`OIDC_<NAME>_TRUST_EMAIL`). Otherwise the person proves the account is theirs with its
password and the link is made then (docs/oidc.md): someone who registered the address
first cannot capture the owner's later provider sign-ins. Linked identities can be listed
and unlinked, but never the last way to sign in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.audit import ClientInfo
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.models import OidcIdentity, User
from netra.auth.oidc.config import ProviderConfig
from netra.db.base import utcnow
from netra.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


def verified_email(claims: dict[str, Any]) -> tuple[str | None, bool]:
    """The normalised email of the claims, and whether the provider vouches for it."""
    raw = claims.get("email")
    try:
        email = normalize_email(raw) if isinstance(raw, str) else None
    except EmailRejected:
        email = None
    return email, claims.get("email_verified") in (True, "true")


def email_verified_by_netra(user: User) -> bool:
    """Whether Netra confirmed that `user` controls its email address: a mailed link was
    used (netra.auth.verification, a password reset), an operator vouched for it, or a
    provider trusted with emails confirmed it (`_mark_verified`). An address someone
    merely registered never counts. This is the one place that answers the question."""
    return user.email_verified_at is not None


def joins_automatically(provider: ProviderConfig, account: User) -> bool:
    return provider.trust_email and email_verified_by_netra(account)


@dataclass(frozen=True)
class PendingLink:
    """A provider identity whose email belongs to an existing account that must prove
    it is the same person (its password) before the two are linked."""

    user_id: str
    provider: str
    issuer: str
    subject: str
    email: str


class LinkRequired(Exception):
    def __init__(self, pending: PendingLink) -> None:
        super().__init__(pending.email)
        self.pending = pending


class IdentityLinks:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self._db = db

    async def resolve(
        self, provider: ProviderConfig, claims: dict[str, Any], client: ClientInfo
    ) -> User:
        """The user these claims sign in, linking or creating the account if allowed."""
        try:
            return await self._resolve(provider, claims, client)
        except IntegrityError:  # a concurrent first sign-in linked it meanwhile
            return await self._resolve(provider, claims, client)

    async def _resolve(
        self, provider: ProviderConfig, claims: dict[str, Any], client: ClientInfo
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
                _mark_verified(provider, user, email, verified)
                return _active(user)
            if email is None:
                raise BadRequest(
                    f"{provider.display_name} shared no usable email address; "
                    "Netra needs one to create the account (is the `email` scope requested?)",
                    reason="email_required",
                )
            if not verified:  # one answer whether or not an account has the address
                raise Forbidden(
                    f"{provider.display_name} does not confirm that {email} is yours, so it "
                    "cannot be used to sign in here",
                    reason="email_not_verified",
                )
            existing = await db.scalar(select(User).where(User.email == email))
            if existing is not None and not joins_automatically(provider, existing):
                raise LinkRequired(
                    PendingLink(existing.id, provider.name, provider.issuer, subject, email)
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
                audit.record(db, "register", client, user_id=account.id, method=provider.name)
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
            audit.record(db, "oidc_linked", client, user_id=account.id, provider=provider.name)
            _mark_verified(provider, account, email, verified)
            return _active(account)

    async def find(self, provider: ProviderConfig, subject: str) -> User | None:
        """The active account this provider identity is linked to, if any."""
        async with self._db() as db:
            user = await db.scalar(
                select(User)
                .join(OidcIdentity, OidcIdentity.user_id == User.id)
                .where(OidcIdentity.issuer == provider.issuer, OidcIdentity.subject == subject)
            )
        return _active(user) if user is not None else None

    async def link(self, pending: PendingLink, client: ClientInfo) -> User:
        """Make the link the account's password (and second factor) just confirmed."""
        try:
            return await self._link(pending, client)
        except IntegrityError:
            raise Conflict(
                "this provider account is linked already", reason="already_linked"
            ) from None

    async def _link(self, pending: PendingLink, client: ClientInfo) -> User:
        async with self._db() as db, db.begin():
            user = await db.get(User, pending.user_id)
            if user is None or user.deleted_at is not None:
                raise Unauthorized("this account no longer exists", reason="invalid_link")
            db.add(
                OidcIdentity(
                    user_id=user.id,
                    provider=pending.provider,
                    issuer=pending.issuer,
                    subject=pending.subject,
                    email=pending.email,
                    last_login_at=utcnow(),
                )
            )
            audit.record(db, "oidc_linked", client, user_id=user.id, provider=pending.provider)
            return _active(user)

    async def list(self, user_id: str) -> list[OidcIdentity]:
        async with self._db() as db:
            rows = await db.scalars(
                select(OidcIdentity)
                .where(OidcIdentity.user_id == user_id)
                .order_by(OidcIdentity.created_at)
            )
            return list(rows)

    async def unlink(self, user_id: str, identity_id: str, client: ClientInfo) -> None:
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
            audit.record(db, "oidc_unlinked", client, user_id=user_id, provider=identity.provider)


def _mark_verified(provider: ProviderConfig, user: User, email: str | None, verified: bool) -> None:
    """A provider trusted with emails (`OIDC_<NAME>_TRUST_EMAIL`) that vouches for the
    account's own address verifies it. An untrusted provider's word is not enough: the
    address would then count as verified by Netra, and a trusted provider's sign-in would
    join the account by itself (`joins_automatically`)."""
    if not provider.trust_email:
        return
    if verified and email == user.email and user.email_verified_at is None:
        user.email_verified_at = utcnow()


def _active(user: User) -> User:
    if not user.is_active:
        raise Forbidden("this account is disabled", reason="account_disabled")
    return user
