"""Two-factor sign-in: TOTP (pyotp; QR code as SVG by segno) and recovery codes.

The secret is sealed at rest (KEY_ENCRYPTION_KEY). A code is accepted within one step
(30 s) of clock skew either way, and once only: the newest accepted time step is stored
and a code must be for a later one (a conditional UPDATE, so two concurrent uses of one
code cannot both win). Recovery codes are stored as SHA-256 and spent the same way."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.audit import ClientInfo
from netra.auth.guesses import Guesses
from netra.auth.mail.outbox import Outbox
from netra.auth.models import RecoveryCode, TotpFactor, User
from netra.auth.sealing import SecretSealer
from netra.db.base import utcnow
from netra.errors import BadRequest, Conflict, Forbidden, NotFound
from netra.settings import Settings

ISSUER = "Netra"
RECOVERY_CODES = 10
CODE = re.compile(r"[0-9]{6}")
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)
MAX_RECOVERY_CODE_LENGTH = 64


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    otpauth_uri: str
    qr_svg: str


def two_factor(auth_method: str) -> bool:
    """Whether a session began with two factors (a code after the password or an OIDC
    sign-in, `<first>+<code kind>`; a passkey)."""
    return "+" in auth_method or auth_method == "passkey"


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))  # ~49 bits
    return f"{raw[:5]}-{raw[5:]}"


def recovery_hash(code: str) -> str | None:
    """The stored form of a recovery code as a person may type it (any case, with or
    without the dash or spaces); None for something that cannot be one."""
    if len(code) > MAX_RECOVERY_CODE_LENGTH:
        return None
    normal = re.sub(r"[\s-]", "", code).lower()
    return hashlib.sha256(normal.encode()).hexdigest() if normal else None


class Mfa:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        guesses: Guesses,
        outbox: Outbox,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._db = db
        self.guesses = guesses
        self.outbox = outbox
        self._sealer = SecretSealer(settings, b"netra totp secrets v1")
        self._clock = clock

    async def enabled(self, db: AsyncSession, user_id: str) -> bool:
        factor = await db.get(TotpFactor, user_id)
        return factor is not None and factor.confirmed_at is not None

    async def _user(self, user_id: str, password: str, device_cookie: str | None) -> User:
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not await self.guesses.password(user, password, device_cookie):
            raise Forbidden("the password is wrong", reason="invalid_credentials")
        return user

    async def setup(
        self, user_id: str, password: str, client: ClientInfo, device_cookie: str | None = None
    ) -> TotpSetup:
        """Start enrolment: a new secret, shown once, confirmed by `confirm`."""
        user = await self._user(user_id, password, device_cookie)
        secret = pyotp.random_base32()
        async with self._db() as db, db.begin():
            factor = await db.get(TotpFactor, user_id)
            if factor is not None and factor.confirmed_at is not None:
                raise Conflict(
                    "two-factor sign-in is already on; disable it first",
                    reason="mfa_already_enabled",
                )
            if factor is not None:
                await db.delete(factor)
                await db.flush()
            db.add(TotpFactor(user_id=user_id, secret=self._sealer.seal(secret.encode(), user_id)))
            audit.record(db, "mfa_setup_started", client, user_id=user_id)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
        return TotpSetup(secret, uri, segno.make(uri, error="m").svg_inline(scale=4))

    def _step(self, factor: TotpFactor, code: str) -> int | None:
        """The time step `code` belongs to, within one step of now; None if none."""
        if not CODE.fullmatch(code):
            return None
        totp = pyotp.TOTP(self._sealer.open(factor.secret, factor.user_id).decode())
        current = totp.timecode(self._clock())
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None

    async def confirm(self, user_id: str, code: str, client: ClientInfo) -> list[str]:
        """Finish enrolment with a first code; returns the recovery codes (shown once)."""
        async with self._db() as db, db.begin():
            factor = await db.get(TotpFactor, user_id)
            if factor is None or factor.confirmed_at is not None:
                raise Conflict(
                    "start with POST /auth/mfa/totp/setup first", reason="mfa_not_pending"
                )
            step = self._step(factor, code)
            if step is None:
                raise BadRequest("the code is wrong; check the clock", reason="invalid_code")
            factor.confirmed_at, factor.last_step = utcnow(), step
            codes = await self._new_codes(db, user_id)
            audit.record(db, "mfa_enabled", client, user_id=user_id)
            await self.outbox.tell_owner(
                db, user_id, "mfa_enabled", "Two-factor sign-in was turned on"
            )
        self.outbox.wake()
        return codes

    async def _new_codes(self, db: AsyncSession, user_id: str) -> list[str]:
        await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        for code in codes:
            db.add(RecoveryCode(user_id=user_id, code_hash=recovery_hash(code)))
        return codes

    async def regenerate(
        self, user_id: str, password: str, client: ClientInfo, device_cookie: str | None = None
    ) -> list[str]:
        """New recovery codes; the old ones stop working."""
        await self._user(user_id, password, device_cookie)
        async with self._db() as db, db.begin():
            if not await self.enabled(db, user_id):
                raise Conflict("two-factor sign-in is off", reason="mfa_not_enabled")
            codes = await self._new_codes(db, user_id)
            audit.record(db, "mfa_recovery_codes_regenerated", client, user_id=user_id)
            await self.outbox.tell_owner(
                db, user_id, "mfa_recovery_codes", "New recovery codes were made"
            )
        self.outbox.wake()
        return codes

    async def verify(
        self, db: AsyncSession, user_id: str, *, code: str | None, recovery_code: str | None
    ) -> str | None:
        """Spend a TOTP code or a recovery code of `user_id` in `db`'s transaction;
        returns the method ("totp", "recovery_code") or None when it is not accepted."""
        factor = await db.get(TotpFactor, user_id)
        if factor is None or factor.confirmed_at is None:
            return None
        if code is not None:
            step = self._step(factor, code)
            if step is None:
                return None
            spent = await db.execute(
                update(TotpFactor)
                .where(
                    TotpFactor.user_id == user_id,
                    (TotpFactor.last_step.is_(None)) | (TotpFactor.last_step < step),
                )
                .values(last_step=step)
            )
            return "totp" if getattr(spent, "rowcount", 0) == 1 else None
        digest = recovery_hash(recovery_code or "")
        if digest is None:
            return None
        spent = await db.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == digest,
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        return "recovery_code" if getattr(spent, "rowcount", 0) == 1 else None

    async def disable(
        self,
        user_id: str,
        password: str,
        code: str,
        client: ClientInfo,
        device_cookie: str | None = None,
    ) -> None:
        """Turn two-factor sign-in off: the password and a current code (both guesses
        counted like a sign-in's)."""
        user = await self._user(user_id, password, device_cookie)
        key = await self.guesses.reserve(user.email, device_cookie)
        async with self._db() as db, db.begin():
            if not await self.enabled(db, user_id):
                raise Conflict("two-factor sign-in is off", reason="mfa_not_enabled")
            if await self.verify(db, user_id, code=code, recovery_code=None) is None:
                raise BadRequest("the code is wrong or was already used", reason="invalid_code")
            await self.guesses.release(key)
            await self._remove(db, user_id)
            audit.record(db, "mfa_disabled", client, user_id=user_id)
            await self.outbox.tell_owner(
                db, user_id, "mfa_disabled", "Two-factor sign-in was turned off"
            )
        self.outbox.wake()

    async def reset_by_admin(self, user_id: str, actor: str, client: ClientInfo) -> None:
        async with self._db() as db, db.begin():
            user = await db.get(User, user_id[:36])
            if user is None or user.deleted_at is not None:
                raise NotFound("no account has this id", reason="not_found")
            if not await self.enabled(db, user.id):
                raise Conflict("this account has no second factor", reason="mfa_not_enabled")
            await self._remove(db, user.id)
            audit.record(db, "mfa_reset_by_admin", client, user_id=user.id, actor=actor)
            await self.outbox.tell_owner(
                db, user.id, "mfa_disabled", "An administrator turned two-factor sign-in off"
            )
        self.outbox.wake()

    async def _remove(self, db: AsyncSession, user_id: str) -> None:
        await db.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))
        await db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    async def recovery_codes_left(self, db: AsyncSession, user_id: str) -> int:
        rows = await db.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        return len(rows.all())
