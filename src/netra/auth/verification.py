"""Email verification and email changes. Registering mails a link; a changed address
takes effect only once the link mailed to it is used, and the old address is told."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth import account_tokens, audit
from netra.auth.account_tokens import CHANGE_EMAIL, VERIFY_EMAIL, token_error
from netra.auth.audit import ClientInfo
from netra.auth.guesses import Guesses
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.mail import messages
from netra.auth.mail.outbox import Outbox
from netra.auth.models import User
from netra.auth.signin_limits import RateLimiter
from netra.db.base import utcnow
from netra.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    TooManyAttempts,
    Unauthorized,
    whole_seconds,
)
from netra.settings import Settings

# Links mailed per account (verification and change requests together) per window.
MAILS_PER_WINDOW = 3
MAIL_WINDOW = 900.0


def _too_many(wait: float) -> TooManyAttempts:
    return TooManyAttempts(
        f"too many verification mails; try again in {whole_seconds(wait)} seconds",
        retry_after=wait,
    )


class EmailVerification:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        guesses: Guesses,
        outbox: Outbox,
        limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self._db = db
        self.guesses = guesses
        self.outbox = outbox
        self.limiter = limiter

    def queue(self, db: AsyncSession, user: User) -> None:
        """Mail `user` a verification link, in `db`'s transaction (registration)."""
        token = account_tokens.issue(db, user.id, VERIFY_EMAIL, email=user.email)
        self.outbox.add(
            db, messages.verify_email(self.settings, user.email, token), user_id=user.id
        )

    async def allowed(self, user_id: str) -> float | None:
        """Count one mailed link for `user_id`; None when allowed, else seconds to wait."""
        count, left = await self.limiter.count(f"verify-mail:{user_id}", MAIL_WINDOW)
        return None if count <= MAILS_PER_WINDOW else left

    async def request(self, user_id: str, client: ClientInfo) -> None:
        """`POST /auth/verify-email/request`: mail a new link (rate-limited)."""
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or user.deleted_at is not None:
            raise Unauthorized("this account no longer exists", reason="unknown_user")
        if user.email_verified_at is not None:
            raise Conflict(f"{user.email} is already verified", reason="already_verified")
        wait = await self.allowed(user_id)
        if wait is not None:
            raise _too_many(wait)
        async with self._db() as db, db.begin():
            row = await db.get(User, user_id)
            if row is not None:
                self.queue(db, row)
                audit.record(db, "verification_sent", client, user_id=user_id)
        self.outbox.wake()

    async def verify(self, token: str, client: ClientInfo) -> User:
        """`POST /auth/verify-email`: the link proves the address it was sent to."""
        try:
            async with self._db() as db, db.begin():
                row = await account_tokens.consume(db, token, (VERIFY_EMAIL, CHANGE_EMAIL))
                user = await db.get(User, row.user_id)
                if user is None or user.deleted_at is not None or row.email is None:
                    raise token_error("invalid_token", "this link or code is not valid")
                if row.purpose == CHANGE_EMAIL:
                    await self._change(db, user, row.email, client)
                elif row.email != user.email:
                    raise token_error(
                        "token_superseded",
                        "this link was sent to an address the account no longer uses",
                    )
                elif user.email_verified_at is None:
                    user.email_verified_at = utcnow()
                    audit.record(db, "email_verified", client, user_id=user.id)
                await db.flush()
        except IntegrityError:
            raise Conflict(
                "another account has taken this address meanwhile", reason="email_taken"
            ) from None
        self.outbox.wake()
        return user

    async def _change(self, db: AsyncSession, user: User, new: str, client: ClientInfo) -> None:
        old = user.email
        user.email, user.email_verified_at = new, utcnow()
        await db.flush()  # IntegrityError here: the address was taken since the request
        audit.account_change(
            db,
            "email_changed",
            client,
            user_id=user.id,
            outbox=self.outbox,
            notice=messages.notice(
                "email_changed",
                old,
                "Your email address was changed",
                f"The email address of your Netra account is now {new}; {old} no longer signs in.",
            ),
        )

    async def change(
        self,
        user_id: str,
        new_email: str,
        password: str,
        client: ClientInfo,
        device_cookie: str | None = None,
    ) -> None:
        """`POST /auth/email`: mail a link to the new address. Answers alike whether or not
        another account uses it (no enumeration); using the link then says so."""
        async with self._db() as db:
            user = await db.get(User, user_id)
        if user is None or not await self.guesses.password(user, password, device_cookie):
            raise Forbidden("the password is wrong", reason="invalid_credentials")
        try:
            new = normalize_email(new_email)
        except EmailRejected as exc:
            raise InvalidRequest(str(exc), reason="invalid_request") from None
        if new == user.email:
            raise InvalidRequest("this is already the account's address", reason="invalid_request")
        wait = await self.allowed(user_id)
        if wait is not None:
            raise _too_many(wait)
        async with self._db() as db, db.begin():
            token = account_tokens.issue(db, user_id, CHANGE_EMAIL, email=new)
            self.outbox.add(
                db, messages.verify_email(self.settings, new, token, change=True), user_id=user_id
            )
            audit.record(db, "email_change_requested", client, user_id=user_id)
        self.outbox.wake()
