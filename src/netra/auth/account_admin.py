"""What an admin does to other people's accounts: disable, enable and delete them.
Every action ends the account's sessions and API keys where it must, and is audited."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.api_key_store import ApiKeys
from netra.auth.audit import ClientInfo
from netra.auth.models import OidcIdentity, User, UserSession
from netra.auth.sessions import Sessions
from netra.db.base import utcnow
from netra.errors import Conflict, NotFound


async def live_user(db: AsyncSession, user_id: str) -> User:
    """The account, unless it does not exist or was deleted."""
    user = await db.get(User, user_id[:36])
    if user is None or user.deleted_at is not None:
        raise NotFound("no account has this id")
    return user


class AccountAdmin:
    def __init__(
        self, db: async_sessionmaker[AsyncSession], sessions: Sessions, api_keys: ApiKeys
    ) -> None:
        self._db = db
        self.sessions = sessions
        self.api_keys = api_keys

    async def set_active(self, user_id: str, active: bool, actor: str, client: ClientInfo) -> User:
        """Enable or disable an account; disabling ends its sessions and API keys at once."""
        if user_id == actor and not active:
            raise Conflict("an admin cannot disable their own account")
        async with self._db() as db, db.begin():
            user = await live_user(db, user_id)
            user.is_active, user.disabled_at = active, None if active else utcnow()
            revoked = 0
            if not active:
                revoked = len(await self.sessions.revoke_sessions(db, user.id, "account_disabled"))
                await self.api_keys.revoke(db, user.id, reason="account_disabled")
            event = "user_enabled" if active else "user_disabled"
            audit.record(db, event, client, user_id=user.id, actor=actor, revoked=revoked)
        return user

    async def delete(self, user_id: str, actor: str, client: ClientInfo) -> None:
        """Sessions and API keys end at once; what identified the person is erased."""
        if user_id == actor:
            raise Conflict("an admin cannot delete their own account")
        async with self._db() as db, db.begin():
            user = await live_user(db, user_id)
            revoked = len(await self.sessions.revoke_sessions(db, user.id, "account_deleted"))
            await self.api_keys.revoke(db, user.id, reason="account_deleted")
            # The row stays as a tombstone so the sessions' revocations keep being served
            # to backends (`/auth/revocations`) until the last access token has expired;
            # everything that identified the person goes, and the address is free again.
            now = utcnow()
            user.email = f"deleted-{user.id}@deleted.invalid"
            user.name = user.password_hash = None
            user.is_active, user.disabled_at, user.deleted_at = False, now, now
            await db.execute(delete(OidcIdentity).where(OidcIdentity.user_id == user.id))
            await db.execute(
                update(UserSession)
                .where(UserSession.user_id == user.id)
                .values(user_agent=None, ip_address=None)
            )
            audit.record(db, "user_deleted", client, user_id=user.id, actor=actor, revoked=revoked)
