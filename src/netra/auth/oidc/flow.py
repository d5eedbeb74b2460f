"""The sign-in flow: `begin` (state, nonce, PKCE verifier, bound to the browser by a
cookie), `complete` (the provider's answer: state checked and spent, code exchanged, ID
token verified, account resolved) and `finish` (the web UI trades a one-time handoff
cookie for the same token pair as a password login). Nothing secret travels in a URL
beyond the protocol's own `state` and `code`."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import audit
from netra.auth.accounts import Accounts, MfaChallenge
from netra.auth.audit import ClientInfo
from netra.auth.models import OidcLogin, User
from netra.auth.oidc.linking import LinkRequired, PendingLink
from netra.auth.oidc.provider import OidcProvider
from netra.auth.sessions import IssuedTokens
from netra.auth.signed_values import SignedValues
from netra.db.base import utcnow
from netra.errors import BadRequest, DomainError, Forbidden, NotFound, Unauthorized

LOGIN_TTL = timedelta(minutes=10)
HANDOFF_TTL = timedelta(minutes=2)
LINK_TTL = timedelta(minutes=10)  # time to type the existing account's password
REAUTH_WINDOW = 300.0  # seconds a re-authentication at the provider counts as fresh
KEEP_ROWS = timedelta(days=1)
MAX_PARAM = 2048


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def safe_next(value: str | None) -> str:
    """A path on this site to return to; anything that could leave it is refused."""
    if not value:
        return "/"
    bad = (
        len(value) > 1000
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(ord(c) < 0x21 or c == "\\" for c in value)
    )
    if bad:
        raise BadRequest(
            "next must be a path on this site such as /threads (not another host or scheme)",
            reason="invalid_next",
        )
    return value


@dataclass(frozen=True)
class Started:
    url: str
    browser_secret: str


@dataclass(frozen=True)
class Completed:
    """A sign-in to hand over (`handoff_secret`), or one waiting for the existing
    account's password before its link is made (`pending_link`, signed)."""

    next_url: str
    handoff_secret: str | None = None
    pending_link: str | None = None
    reauth_proof: str | None = None


class OidcLogins:
    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        accounts: Accounts,
        providers: Mapping[str, OidcProvider],
        pending_links: SignedValues,
        proofs: SignedValues,
    ) -> None:
        self._db = db
        self.pending_links = pending_links
        self.proofs = proofs
        self.accounts = accounts
        self.providers = dict(providers)
        self.links = accounts.links

    def provider(self, name: str) -> OidcProvider:
        found = self.providers.get(name)
        if found is None:
            known = ", ".join(self.providers) or "none is configured"
            raise NotFound(f"no provider {name[:40]!r} ({known})", reason="unknown_provider")
        return found

    async def begin(self, name: str, next_url: str | None, *, reauth: bool = False) -> Started:
        provider = self.provider(name)
        target = safe_next(next_url)
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier, browser = secrets.token_urlsafe(48), secrets.token_urlsafe(32)
        url = await provider.authorization_url(
            state=state, nonce=nonce, code_verifier=verifier, fresh_login=reauth
        )
        now = utcnow()
        async with self._db() as db, db.begin():
            await db.execute(delete(OidcLogin).where(OidcLogin.created_at < now - KEEP_ROWS))
            db.add(
                OidcLogin(
                    state_hash=digest(state),
                    browser_hash=digest(browser),
                    provider=name,
                    nonce=nonce,
                    code_verifier=verifier,
                    next_url=target,
                    expires_at=now + LOGIN_TTL,
                    created_at=now,
                )
            )
        return Started(url, browser)

    async def complete(
        self,
        name: str,
        params: Mapping[str, str],
        browser_secret: str | None,
        client: ClientInfo,
        *,
        reauth: bool = False,
    ) -> Completed:
        try:
            if reauth:
                return await self._reauthenticated(name, params, browser_secret)
            return await self._complete(name, params, browser_secret, client)
        except DomainError as exc:
            async with self._db() as db, db.begin():
                audit.record(db, "oidc_login_failed", client, provider=name[:30], reason=exc.reason)
            raise

    async def _spend_state(self, name: str, state: str, browser_secret: str | None) -> OidcLogin:
        if not state:
            raise BadRequest("the provider's answer has no state", reason="missing_state")
        now = utcnow()
        async with self._db() as db, db.begin():
            row = await db.scalar(
                select(OidcLogin).where(OidcLogin.state_hash == digest(state[:MAX_PARAM]))
            )
            if row is None or row.provider != name:
                raise BadRequest("the state does not match any sign-in", reason="invalid_state")
            if row.used_at is not None:
                raise BadRequest("this sign-in answer was already used", reason="state_used")
            if not browser_secret:
                raise BadRequest(
                    "this sign-in was not started in this browser (its sign-in cookie is "
                    "missing); start again from the sign-in page",
                    reason="state_not_bound",
                )
            if not secrets.compare_digest(row.browser_hash, digest(browser_secret[:MAX_PARAM])):
                raise BadRequest(
                    "this sign-in was started in another browser", reason="state_not_bound"
                )
            if row.expires_at <= now:
                raise BadRequest("this sign-in took too long; start again", reason="state_expired")
            spent = await db.execute(
                update(OidcLogin)
                .where(OidcLogin.id == row.id, OidcLogin.used_at.is_(None))
                .values(used_at=now)
            )
            if getattr(spent, "rowcount", 0) != 1:
                raise BadRequest("this sign-in answer was already used", reason="state_used")
        return row

    async def _reauthenticated(
        self, name: str, params: Mapping[str, str], browser_secret: str | None
    ) -> Completed:
        """A sign-in asked for again (`prompt=login`, `max_age=0`) before something
        sensitive: the proof that the account's person just signed in at the provider.
        It never links or creates an account."""
        provider, row, claims = await self._claims(name, params, browser_secret)
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or time.time() - auth_time > REAUTH_WINDOW:
            raise BadRequest(
                f"{provider.config.display_name} did not ask for the password again; try again",
                reason="reauthentication_stale",
            )
        user = await self.links.find(provider.config, str(claims["sub"]))
        if user is None:
            raise Forbidden("this provider account is not linked to Netra", reason="not_linked")
        proof = {"user_id": user.id, "jti": secrets.token_urlsafe(16)}
        return Completed(row.next_url, reauth_proof=self.proofs.sign(proof, REAUTH_WINDOW))

    async def _claims(
        self, name: str, params: Mapping[str, str], browser_secret: str | None
    ) -> tuple[OidcProvider, OidcLogin, dict[str, Any]]:
        provider = self.provider(name)
        row = await self._spend_state(name, params.get("state", ""), browser_secret)
        if "error" in params:
            code = params["error"][:60]
            text = params.get("error_description", "")[:200]
            raise BadRequest(
                f"{provider.config.display_name} said {code}: {text}", reason="provider_refused"
            )
        issuer = params.get("iss")
        if issuer is not None and issuer != provider.config.issuer:
            raise BadRequest("the answer comes from another issuer", reason="wrong_issuer")
        code = params.get("code", "")
        if not code or len(code) > MAX_PARAM:
            raise BadRequest("the provider's answer has no code", reason="missing_code")
        token = await provider.exchange_code(code, row.code_verifier)
        claims = await provider.verify_id_token(
            str(token["id_token"]), nonce=row.nonce, access_token=token.get("access_token")
        )
        return provider, row, claims

    async def _complete(
        self,
        name: str,
        params: Mapping[str, str],
        browser_secret: str | None,
        client: ClientInfo,
    ) -> Completed:
        provider, row, claims = await self._claims(name, params, browser_secret)
        try:
            user = await self.links.resolve(provider.config, claims, client)
        except LinkRequired as wanted:
            signed = self.pending_links.sign(asdict(wanted.pending), LINK_TTL.total_seconds())
            return Completed(row.next_url, pending_link=signed)
        handoff = secrets.token_urlsafe(32)
        async with self._db() as db, db.begin():
            await db.execute(
                update(OidcLogin)
                .where(OidcLogin.id == row.id)
                .values(
                    user_id=user.id,
                    handoff_hash=digest(handoff),
                    handoff_expires_at=utcnow() + HANDOFF_TTL,
                )
            )
        return Completed(row.next_url, handoff_secret=handoff)

    def pending(self, signed: str | None) -> PendingLink | None:
        """The link waiting in this browser's cookie, if any (and still fresh)."""
        payload = self.pending_links.open(signed)
        if payload is None:
            return None
        try:
            return PendingLink(**{k: str(payload[k]) for k in PendingLink.__dataclass_fields__})
        except KeyError:
            return None

    async def finish(
        self, handoff_secret: str | None, client: ClientInfo
    ) -> IssuedTokens | MfaChallenge:
        """The handoff cookie → a session, once, within two minutes, as a password login
        does: an account with a second factor gets the `mfa_required` challenge instead."""
        refused = Unauthorized(
            "no finished sign-in waits for this browser (it was used, expired or never "
            "happened); sign in again",
            reason="invalid_handoff",
        )
        if not handoff_secret or len(handoff_secret) > MAX_PARAM:
            raise refused
        now, hashed = utcnow(), digest(handoff_secret)
        async with self._db() as db, db.begin():
            spent = await db.execute(
                update(OidcLogin)
                .where(
                    OidcLogin.handoff_hash == hashed,
                    OidcLogin.handoff_used_at.is_(None),
                    OidcLogin.handoff_expires_at > now,
                )
                .values(handoff_used_at=now)
            )
            if getattr(spent, "rowcount", 0) != 1:
                raise refused
            found = (
                await db.execute(
                    select(OidcLogin, User)
                    .join(User, OidcLogin.user_id == User.id)
                    .where(OidcLogin.handoff_hash == hashed)
                )
            ).one()
        login, user = found
        if not user.is_active:
            raise Forbidden("this account is disabled", reason="account_disabled")
        return await self.accounts.sign_in(user, f"oidc:{login.provider}", client)
