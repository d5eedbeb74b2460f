"""Personal API keys: `nk_<16 hex id>_<secret>`, shown once, stored as SHA-256 of the
secret, scoped, revocable. The verifier reaches them through `ApiKeyResolver`."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.audit import ClientInfo
from netra.auth.mail import messages
from netra.auth.mail.outbox import Outbox
from netra.auth.models import ApiKey, User
from netra.auth.sessions import hash_token, roles_of
from netra.db.base import utcnow
from netra.settings import Settings
from netra.tokens import Principal, TokenRejected
from netra.tokens.api_key_resolver import (
    API_KEY_PREFIX,
    principal_from_introspection,
    split_api_key,
)
from netra.tokens.revocations import RevocationBroadcast, epoch
from netra.tokens.scopes import ALL_SCOPES

KNOWN_SCOPES = ALL_SCOPES  # docs/auth.md, "Scopes"
# `last_used_at` is written at most once a minute per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeys:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        revocations: RevocationBroadcast,
        outbox: Outbox | None = None,
    ) -> None:
        self.settings = settings
        self._db = db
        self.revocations = revocations
        self.outbox = outbox

    async def create(
        self,
        user_id: str,
        name: str,
        scopes: Iterable[str],
        expires_in_days: int | None,
        client: ClientInfo | None,
    ) -> tuple[ApiKey, str]:
        """A new key; the returned string is the only time its secret exists in clear."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = utcnow()
        row = ApiKey(
            id=key_id,
            user_id=user_id,
            name=name,
            secret_hash=hash_token(secret),
            scopes=" ".join(sorted(set(scopes))),
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
        async with self._db() as db, db.begin():
            db.add(row)
            audit.record(db, "api_key_created", client, user_id=user_id, key_id=key_id)
            owner = await db.get(User, user_id)
            if self.outbox is not None and owner is not None:
                notice = messages.notice(
                    "api_key_created",
                    owner.email,
                    "A new API key was created",
                    f"The API key “{name}” was created for your Netra account; "
                    "if this was not you, revoke it on the API keys page.",
                )
                self.outbox.add(db, notice, user_id=user_id)
        if self.outbox is not None:
            self.outbox.wake()
        return row, f"{API_KEY_PREFIX}{key_id}_{secret}"

    async def list(self, user_id: str) -> list[ApiKey]:
        async with self._db() as db:
            query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
            return list((await db.scalars(query)).all())

    async def revoke(
        self,
        db: AsyncSession,
        user_id: str,
        key_id: str | None = None,
        *,
        reason: str = "api_key_revoked",
    ) -> int:
        """Revoke one key of a user, or all of them; in `db`'s transaction."""
        now = utcnow()
        query = select(ApiKey.id).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        if key_id is not None:
            query = query.where(ApiKey.id == key_id)
        ids = list((await db.scalars(query)).all())
        if ids:
            await db.execute(update(ApiKey).where(ApiKey.id.in_(ids)).values(revoked_at=now))
        for ident in ids:
            await self.revocations.revoke(ident, epoch(now) + 86400, reason)
        return len(ids)

    async def introspect(self, api_key: str) -> dict[str, Any]:
        """The owner of a valid key, as the verifier needs it; `TokenRejected` otherwise."""
        parts = split_api_key(api_key)
        if parts is None:
            raise TokenRejected("malformed", "this is not a Netra API key")
        key_id, secret = parts
        now = utcnow()
        async with self._db() as db:
            found = (
                await db.execute(
                    select(ApiKey, User)
                    .join(User, ApiKey.user_id == User.id)
                    .where(ApiKey.id == key_id)
                )
            ).one_or_none()
        if found is None or not hmac.compare_digest(found[0].secret_hash, hash_token(secret)):
            raise TokenRejected("invalid_signature", "the API key is not valid")
        key, user = found
        if key.revoked_at is not None or not user.is_active:
            raise TokenRejected("revoked", "the API key has been revoked")
        if key.expires_at is not None and key.expires_at <= now:
            raise TokenRejected("expired", "the API key has expired")
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            async with self._db() as db, db.begin():
                await db.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        return _introspection(key, user)


def _introspection(key: ApiKey, user: User) -> dict[str, Any]:
    expires: datetime | None = key.expires_at
    return {
        "active": True,
        "sub": user.id,
        "email": user.email,
        "roles": roles_of(user),
        "scopes": key.scopes.split(),
        "key_id": key.id,
        "expires_at": expires.isoformat() if expires else None,
    }


class LocalApiKeyResolver:
    """The auth component's own resolver (same process, no HTTP)."""

    def __init__(self, api_keys: ApiKeys) -> None:
        self.api_keys = api_keys

    async def resolve(self, api_key: str) -> Principal:
        return principal_from_introspection(await self.api_keys.introspect(api_key))
