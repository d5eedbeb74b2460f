"""Service accounts: the backend's SERVICE_ID/SERVICE_SECRET, kept only as hashes, two
valid during a rotation (SERVICE_SECRET and SERVICE_SECRET_PREVIOUS)."""

from __future__ import annotations

import hmac

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth.models import ServiceAccount
from netra.auth.sessions import hash_token
from netra.db.base import utcnow
from netra.settings import Settings


class ServiceAccounts:
    def __init__(self, settings: Settings, db: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self._db = db

    async def sync(self) -> None:
        """Make the stored account match settings (called at startup)."""
        if self.settings.service_secret is None:
            return
        current = hash_token(self.settings.service_secret.get_secret_value())
        previous = (
            hash_token(self.settings.service_secret_previous.get_secret_value())
            if self.settings.service_secret_previous
            else None
        )
        async with self._db() as db, db.begin():
            account = await db.get(ServiceAccount, self.settings.service_id)
            if account is None:
                db.add(
                    ServiceAccount(
                        id=self.settings.service_id,
                        secret_hash=current,
                        previous_secret_hash=previous,
                        created_at=utcnow(),
                    )
                )
            elif (account.secret_hash, account.previous_secret_hash) != (current, previous):
                account.secret_hash, account.previous_secret_hash = current, previous
                account.rotated_at = utcnow()

    async def authenticate(self, service_id: str, secret: str) -> bool:
        digest = hash_token(secret)
        async with self._db() as db:
            account = await db.get(ServiceAccount, service_id[:100])
        if account is None:
            hmac.compare_digest(digest, digest)
            return False
        valid = hmac.compare_digest(account.secret_hash, digest)
        if account.previous_secret_hash is not None:
            valid = hmac.compare_digest(account.previous_secret_hash, digest) or valid
        return valid
