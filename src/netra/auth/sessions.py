"""Sessions and their rotating refresh tokens.

`Sessions.start(user, method=...)` is the one way a session begins: password sign-in
calls it, and so will OIDC or any later login method. Each refresh consumes its token with
`UPDATE ... WHERE used_at IS NULL` and checks the row count, so of concurrent refreshes of
one token exactly one wins on SQLite and PostgreSQL alike; a token presented again after
`REFRESH_REUSE_GRACE` is a replay and revokes its whole family (the session).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.audit import ClientInfo
from netra.auth.issuer import TokenIssuer
from netra.auth.models import RefreshToken, User, UserSession
from netra.db.base import utcnow
from netra.errors import Unauthorized
from netra.health.metrics import Metrics
from netra.settings import Settings
from netra.tokens.revocations import RevocationBroadcast, epoch
from netra.tokens.scopes import ALL_SCOPES

MAX_REFRESH_TOKEN_LENGTH = 200


def hash_token(token: str) -> str:
    """Refresh tokens and API key secrets carry 256 bits: SHA-256 is the right hash
    (a slow hash buys nothing against a random 256-bit value)."""
    return hashlib.sha256(token.encode()).hexdigest()


def roles_of(user: User) -> list[str]:
    return ["admin", "user"] if user.role == "admin" else ["user"]


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


class Sessions:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        issuer: TokenIssuer,
        revocations: RevocationBroadcast,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self._db = db
        self.issuer = issuer
        self.revocations = revocations
        self.metrics = metrics if metrics is not None else Metrics()

    def _pair(self, user: User, session: UserSession, now: datetime) -> tuple[RefreshToken, str]:
        token = secrets.token_urlsafe(32)
        idle = now + timedelta(seconds=self.settings.session_idle_ttl)
        row = RefreshToken(
            session_id=session.id,
            token_hash=hash_token(token),
            expires_at=min(idle, session.expires_at),
            created_at=now,
        )
        return row, token

    def _issue(self, user: User, session: UserSession, refresh: str) -> IssuedTokens:
        access = self.issuer.access_token(
            user_id=user.id,
            email=user.email,
            email_verified=user.email_verified_at is not None,
            roles=roles_of(user),
            session_id=session.id,
            scopes=ALL_SCOPES,  # a sign-in carries every scope of its user
        )
        return IssuedTokens(access, refresh, self.issuer.ttl, session.id)

    async def start(self, user: User, *, method: str, client: ClientInfo) -> IssuedTokens:
        """Begin a session for an authenticated, active user; any login method calls this."""
        now = utcnow()
        async with self._db() as db, db.begin():
            session = UserSession(
                user_id=user.id,
                auth_method=method,
                user_agent=(client.user_agent or "")[:400] or None,
                ip_address=client.ip,
                last_used_at=now,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.session_max_age),
            )
            db.add(session)
            await db.flush()
            row, token = self._pair(user, session, now)
            db.add(row)
            audit.record(db, "login", client, user_id=user.id, method=method, sid=session.id)
        return self._issue(user, session, token)

    async def refresh(self, token: str, client: ClientInfo) -> IssuedTokens:
        """Rotate: consume `token`, answer a new pair, or raise 401 saying why."""
        if not token or len(token) > MAX_REFRESH_TOKEN_LENGTH:
            raise Unauthorized("the refresh token is not valid", reason="invalid_refresh_token")
        digest, now = hash_token(token), utcnow()
        failure: Unauthorized | None = None
        issued: IssuedTokens | None = None
        async with self._db() as db, db.begin():
            consumed = await db.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == digest,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.expires_at > now,
                )
                .values(used_at=now)
            )
            found = (
                await db.execute(
                    select(RefreshToken, UserSession, User)
                    .join(UserSession, RefreshToken.session_id == UserSession.id)
                    .join(User, UserSession.user_id == User.id)
                    .where(RefreshToken.token_hash == digest)
                )
            ).one_or_none()
            if found is None:
                raise Unauthorized("the refresh token is not valid", reason="invalid_refresh_token")
            row, session, user = found
            if getattr(consumed, "rowcount", 0) != 1:
                failure = await self._refused(db, row, session, now, client)
            else:
                failure = self._unusable(session, user, now)
                if failure is None:
                    session.last_used_at, session.ip_address = now, client.ip or session.ip_address
                    successor, new_token = self._pair(user, session, now)
                    db.add(successor)
                    issued = self._issue(user, session, new_token)
        if failure is not None or issued is None:
            raise failure or Unauthorized(
                "the refresh token is not valid", reason="invalid_refresh_token"
            )
        return issued

    @staticmethod
    def _unusable(session: UserSession, user: User, now: datetime) -> Unauthorized | None:
        if session.revoked_at is not None:
            return Unauthorized("this session has been signed out", reason="session_revoked")
        if session.expires_at <= now:
            return Unauthorized(
                "this session has reached its maximum age", reason="session_expired"
            )
        if not user.is_active:
            return Unauthorized("this account is disabled", reason="account_disabled")
        return None

    async def _refused(
        self,
        db: AsyncSession,
        row: RefreshToken,
        session: UserSession,
        now: datetime,
        client: ClientInfo,
    ) -> Unauthorized:
        if row.used_at is None:
            return Unauthorized("the refresh token has expired", reason="refresh_token_expired")
        if session.revoked_at is not None:
            return Unauthorized("this session has been signed out", reason="session_revoked")
        if (now - row.used_at).total_seconds() <= self.settings.refresh_reuse_grace:
            return Unauthorized(
                "this refresh token was just rotated by another request; use the newest one",
                reason="refresh_token_rotated",
            )
        await self._revoke(db, [session.id], "refresh_token_reuse", now)
        audit.record(db, "refresh_replay", client, user_id=session.user_id, sid=session.id)
        self.metrics.refresh_replays.inc()
        return Unauthorized(
            "this refresh token was already used: the session has been revoked for safety",
            reason="refresh_token_reused",
        )

    async def _revoke(
        self, db: AsyncSession, ids: Sequence[str], reason: str, now: datetime
    ) -> None:
        if not ids:
            return
        await db.execute(
            update(UserSession)
            .where(UserSession.id.in_(ids), UserSession.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )
        until = epoch(now) + self.settings.access_token_ttl + self.settings.token_leeway
        for sid in ids:
            await self.revocations.revoke(sid, until, reason)

    async def revoke_sessions(
        self,
        db: AsyncSession,
        user_id: str,
        reason: str,
        *,
        only: str | None = None,
        keep: str | None = None,
    ) -> list[str]:
        """Revoke a user's live sessions (one with `only`, all but `keep`), in `db`'s
        transaction; returns their ids."""
        query = select(UserSession.id).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
        )
        if only is not None:
            query = query.where(UserSession.id == only)
        if keep is not None:
            query = query.where(UserSession.id != keep)
        ids = list((await db.scalars(query)).all())
        await self._revoke(db, ids, reason, utcnow())
        return ids
