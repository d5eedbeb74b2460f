"""Passkeys (WebAuthn, py_webauthn): add one (the password, or a second factor, first),
list, rename, remove; sign in with one alone: a discoverable credential, user
verification required, so it counts as two factors.

The relying party is PUBLIC_URL: its host is the RP id and its origin the only origin
accepted. Challenges are 32 random bytes, kept as SHA-256, single-use, 5 minutes; the
browser echoes the challenge in clientDataJSON, which is how `finish` finds it. A
sign-count that does not grow (a cloned authenticator) is refused."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from netra.auth import audit
from netra.auth.audit import ClientInfo
from netra.auth.guesses import Guesses
from netra.auth.mail.messages import link_base
from netra.auth.mail.outbox import Outbox
from netra.auth.mfa import Mfa
from netra.auth.models import OidcIdentity, Passkey, User, WebauthnChallenge
from netra.auth.sessions import IssuedTokens, Sessions
from netra.db.base import utcnow
from netra.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Unauthorized,
    Unavailable,
)
from netra.settings import Settings

CHALLENGE_TTL = timedelta(minutes=5)
REGISTER, SIGN_IN = "register", "sign_in"
MAX_PASSKEYS = 20


def relying_party(settings: Settings) -> tuple[str, str]:
    """(RP id, origin) from PUBLIC_URL; WebAuthn needs a host name, not an address."""
    parts = urlsplit(link_base(settings))
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host, f"{parts.scheme}://{parts.netloc}"
    raise Unavailable(
        f"passkeys need PUBLIC_URL with a host name (WebAuthn refuses an address like {host}); "
        "in development open and set http://localhost:PORT",
        reason="passkeys_unavailable",
    )


def _digest(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


def _echoed_challenge(credential: dict[str, Any]) -> str:
    """The challenge the browser signed, from the credential's clientDataJSON."""
    try:
        raw = credential["response"]["clientDataJSON"]
        client_data = json.loads(base64url_to_bytes(raw))
        challenge = client_data["challenge"]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(
            f"the credential is malformed: {exc}", reason="invalid_credential"
        ) from None
    if not isinstance(challenge, str) or len(challenge) > 200:
        raise BadRequest("the credential's challenge is malformed", reason="invalid_credential")
    return challenge


class Passkeys:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        *,
        guesses: Guesses,
        mfa: Mfa,
        sessions: Sessions,
        outbox: Outbox,
    ) -> None:
        self.settings = settings
        self._db = db
        self.guesses = guesses
        self.mfa = mfa
        self.sessions = sessions
        self.outbox = outbox

    def _challenge(self, db: AsyncSession, purpose: str, user_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        db.add(
            WebauthnChallenge(
                challenge_hash=_digest(bytes_to_base64url(challenge)),
                purpose=purpose,
                user_id=user_id,
                expires_at=utcnow() + CHALLENGE_TTL,
            )
        )
        return challenge

    async def _spend(self, db: AsyncSession, challenge: str, purpose: str) -> WebauthnChallenge:
        now = utcnow()
        spent = await db.execute(
            update(WebauthnChallenge)
            .where(
                WebauthnChallenge.challenge_hash == _digest(challenge),
                WebauthnChallenge.purpose == purpose,
                WebauthnChallenge.used_at.is_(None),
                WebauthnChallenge.expires_at > now,
            )
            .values(used_at=now)
        )
        row = await db.scalar(
            select(WebauthnChallenge).where(WebauthnChallenge.challenge_hash == _digest(challenge))
        )
        if row is None or row.purpose != purpose:
            raise BadRequest("this challenge was not issued here", reason="invalid_challenge")
        if getattr(spent, "rowcount", 0) != 1:
            if row.used_at is not None:
                raise BadRequest("this challenge was already used", reason="challenge_used")
            raise BadRequest("this challenge has expired; start again", reason="challenge_expired")
        return row

    async def register_begin(
        self,
        user_id: str,
        password: str | None,
        code: str | None,
        client: ClientInfo,
        device_cookie: str | None = None,
    ) -> dict[str, Any]:
        """Creation options for the browser, after the password (or, for an account
        without one, a TOTP code) was checked."""
        rp_id, _ = relying_party(self.settings)
        async with self._db() as db, db.begin():
            user = await db.get(User, user_id)
            if user is None:
                raise Unauthorized("this account no longer exists", reason="unknown_user")
            await self._reauthenticate(db, user, password, code, device_cookie)
            existing = list(await db.scalars(select(Passkey).where(Passkey.user_id == user_id)))
            if len(existing) >= MAX_PASSKEYS:
                raise Conflict(f"at most {MAX_PASSKEYS} passkeys", reason="too_many_passkeys")
            options = generate_registration_options(
                rp_id=rp_id,
                rp_name="Netra",
                user_id=user.id.encode(),
                user_name=user.email,
                user_display_name=user.name or user.email,
                challenge=self._challenge(db, REGISTER, user.id),
                authenticator_selection=AuthenticatorSelectionCriteria(
                    resident_key=ResidentKeyRequirement.REQUIRED,
                    user_verification=UserVerificationRequirement.REQUIRED,
                ),
                exclude_credentials=[
                    PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                    for p in existing
                ],
            )
            audit.record(db, "passkey_registration_started", client, user_id=user.id)
        parsed: dict[str, Any] = json.loads(options_to_json(options))
        return parsed

    async def _reauthenticate(
        self,
        db: AsyncSession,
        user: User,
        password: str | None,
        code: str | None,
        device_cookie: str | None,
    ) -> None:
        """The password, or a code for an account without one: guesses counted like a
        sign-in's (netra.auth.guesses)."""
        if user.password_hash is not None:
            if not await self.guesses.password(user, password, device_cookie):
                raise Forbidden("the password is wrong", reason="invalid_credentials")
            return
        key = await self.guesses.reserve(user.email, device_cookie)
        if code is not None and await self.mfa.verify(db, user.id, code=code, recovery_code=None):
            await self.guesses.release(key)
            return
        raise Forbidden(
            "this account has no password: confirm with a code of its authenticator app",
            reason="invalid_credentials",
        )

    async def register_finish(
        self, user_id: str, credential: dict[str, Any], name: str | None, client: ClientInfo
    ) -> Passkey:
        rp_id, origin = relying_party(self.settings)
        challenge = _echoed_challenge(credential)
        try:
            async with self._db() as db, db.begin():
                row = await self._spend(db, challenge, REGISTER)
                if row.user_id != user_id:
                    raise BadRequest(
                        "this challenge is another account's", reason="invalid_challenge"
                    )
                try:
                    verified = verify_registration_response(
                        credential=credential,
                        expected_challenge=base64url_to_bytes(challenge),
                        expected_rp_id=rp_id,
                        expected_origin=origin,
                        require_user_verification=True,
                    )
                except WebAuthnException as exc:
                    raise BadRequest(str(exc), reason="invalid_credential") from None
                passkey = Passkey(
                    user_id=user_id,
                    credential_id=bytes_to_base64url(verified.credential_id),
                    public_key=verified.credential_public_key,
                    sign_count=verified.sign_count,
                    name=(name or "Passkey").strip()[:100] or "Passkey",
                )
                db.add(passkey)
                await db.flush()
                audit.record(db, "passkey_added", client, user_id=user_id, name=passkey.name)
                await self.outbox.tell_owner(
                    db, user_id, "passkey_added", "A new passkey was added"
                )
        except IntegrityError:
            raise Conflict("this passkey is already registered", reason="passkey_exists") from None
        self.outbox.wake()
        return passkey

    async def login_begin(self) -> dict[str, Any]:
        """Request options with no allowed list: the browser offers its discoverable
        credentials for this RP, so no email is typed."""
        rp_id, _ = relying_party(self.settings)
        async with self._db() as db, db.begin():
            options = generate_authentication_options(
                rp_id=rp_id,
                challenge=self._challenge(db, SIGN_IN, None),
                user_verification=UserVerificationRequirement.REQUIRED,
            )
        parsed: dict[str, Any] = json.loads(options_to_json(options))
        return parsed

    async def login_finish(
        self, credential: dict[str, Any], client: ClientInfo
    ) -> tuple[IssuedTokens, str]:
        """Sign in with a passkey alone (two factors): the tokens and the account's email."""
        rp_id, origin = relying_party(self.settings)
        try:
            challenge = _echoed_challenge(credential)
            raw_id = str(credential.get("id") or credential.get("rawId") or "")[:1400]
            async with self._db() as db, db.begin():
                await self._spend(db, challenge, SIGN_IN)
                passkey = await db.scalar(select(Passkey).where(Passkey.credential_id == raw_id))
                user = await db.get(User, passkey.user_id) if passkey is not None else None
                if passkey is None or user is None or user.deleted_at is not None:
                    raise Unauthorized(
                        "this passkey is not registered here", reason="unknown_passkey"
                    )
                try:
                    verified = verify_authentication_response(
                        credential=credential,
                        expected_challenge=base64url_to_bytes(challenge),
                        expected_rp_id=rp_id,
                        expected_origin=origin,
                        credential_public_key=passkey.public_key,
                        credential_current_sign_count=passkey.sign_count,
                        require_user_verification=True,
                    )
                except WebAuthnException as exc:
                    raise Unauthorized(str(exc), reason="invalid_credential") from None
                passkey.sign_count, passkey.last_used_at = verified.new_sign_count, utcnow()
        except DomainError as exc:
            async with self._db() as db, db.begin():
                audit.record(db, "login_failed", client, method="passkey", why=exc.reason)
            raise Unauthorized(exc.message, reason=exc.reason) from None
        if not user.is_active:
            raise Unauthorized("this account is disabled", reason="account_disabled")
        return await self.sessions.start(user, method="passkey", client=client), user.email

    async def list(self, user_id: str) -> list[Passkey]:
        async with self._db() as db:
            rows = await db.scalars(
                select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)
            )
            return list(rows)

    async def count(self, db: AsyncSession, user_id: str) -> int:
        total = await db.scalar(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
        )
        return total or 0

    async def rename(self, user_id: str, passkey_id: str, name: str) -> Passkey:
        async with self._db() as db, db.begin():
            passkey = await self._own(db, user_id, passkey_id)
            passkey.name = name.strip()[:100] or passkey.name
            return passkey

    async def remove(self, user_id: str, passkey_id: str, client: ClientInfo) -> None:
        async with self._db() as db, db.begin():
            passkey = await self._own(db, user_id, passkey_id)
            user = await db.get(User, user_id)
            others = await self.count(db, user_id) - 1
            linked = await db.scalar(
                select(func.count())
                .select_from(OidcIdentity)
                .where(OidcIdentity.user_id == user_id)
            )
            if user is not None and user.password_hash is None and others == 0 and not linked:
                raise Conflict(
                    "this passkey is the account's only way to sign in; add another first",
                    reason="last_sign_in_method",
                )
            await db.delete(passkey)
            audit.record(db, "passkey_removed", client, user_id=user_id, name=passkey.name)
            await self.outbox.tell_owner(db, user_id, "passkey_removed", "A passkey was removed")
        self.outbox.wake()

    @staticmethod
    async def _own(db: AsyncSession, user_id: str, passkey_id: str) -> Passkey:
        passkey = await db.get(Passkey, passkey_id[:36])
        if passkey is None or passkey.user_id != user_id:
            raise NotFound("no passkey of yours has this id", reason="not_found")
        return passkey
