"""The outbox: a mail is a row added in the transaction of what it tells about, and a
background sender delivers it. A request never waits for SMTP; a restart loses nothing
(rows stay `pending` until sent); several instances never send one mail twice (a row is
claimed with a conditional UPDATE, and a claim lapses if its sender died mid-send)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.auth.mail.messages import Mail, compose, notice
from netra.auth.mail.transport import MailNotSent, Transport
from netra.auth.models import OutboxMail, User
from netra.db.base import utcnow
from netra.settings import Settings

log = logging.getLogger("netra.mail")
POLL_INTERVAL = 5.0  # also picks up rows added by other instances
MAX_BACKOFF = 3600.0
BATCH = 20


class Outbox:
    def __init__(
        self, settings: Settings, db: async_sessionmaker[AsyncSession], transport: Transport
    ) -> None:
        self.settings = settings
        self.transport = transport
        self._db = db
        self._wake = asyncio.Event()
        self._stopping = False

    def add(self, db: AsyncSession, mail: Mail, *, user_id: str | None = None) -> None:
        """Queue `mail` in `db`'s transaction; call `wake()` once it has committed."""
        db.add(
            OutboxMail(
                kind=mail.kind,
                to_address=mail.to,
                subject=mail.subject,
                text_body=mail.text,
                html_body=mail.html,
                user_id=user_id,
                status="pending",
                attempts=0,
                next_attempt_at=utcnow(),
                created_at=utcnow(),
            )
        )

    async def tell_owner(self, db: AsyncSession, user_id: str, kind: str, subject: str) -> None:
        """Queue a short notice ("{subject} on your Netra account.") to the account's
        address, in `db`'s transaction; call `wake()` once it has committed."""
        user = await db.get(User, user_id)
        if user is not None:
            text = f"{subject} on your Netra account."
            self.add(db, notice(kind, user.email, subject, text), user_id=user_id)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End `run` after the mail in hand (rows not yet sent stay pending)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Send due mails until `stop()`; sleeps until the next is due or `wake()`."""
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self.send_due()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("the mail outbox cannot be read: %s", exc)
                wait = POLL_INTERVAL
            # asyncio.wait, not asyncio.timeout: on Python 3.11 a timeout that fires as the
            # task is cancelled can swallow the cancellation and leave shutdown hanging.
            waiter = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({waiter}, timeout=min(wait, POLL_INTERVAL))
            finally:
                waiter.cancel()

    async def send_due(self) -> float:
        """Send every mail that is due; returns seconds until the next one is."""
        now = utcnow()
        async with self._db() as db:
            ids = list(
                await db.scalars(
                    select(OutboxMail.id)
                    .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
                    .order_by(OutboxMail.next_attempt_at)
                    .limit(BATCH)
                )
            )
        for mail_id in ids:
            if self._stopping:
                break
            await self._send_one(mail_id)
        async with self._db() as db:
            due = await db.scalar(
                select(func.min(OutboxMail.next_attempt_at)).where(OutboxMail.status == "pending")
            )
        return POLL_INTERVAL if due is None else max(0.0, (due - utcnow()).total_seconds())

    async def _send_one(self, mail_id: str) -> None:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.smtp_timeout + 30)
        async with self._db() as db, db.begin():
            claimed = await db.execute(
                update(OutboxMail)
                .where(
                    OutboxMail.id == mail_id,
                    OutboxMail.status == "pending",
                    OutboxMail.next_attempt_at <= now,
                )
                .values(attempts=OutboxMail.attempts + 1, next_attempt_at=lease)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                return  # another instance has it
            row = await db.get(OutboxMail, mail_id)
        if row is None:
            return
        mail = Mail(row.kind, row.to_address, row.subject, row.text_body, row.html_body)
        try:
            answer = await self.transport.send(compose(self.settings, mail))
        except MailNotSent as exc:
            await self._failed(row, exc)
            return
        async with self._db() as db, db.begin():
            await db.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id)
                .values(
                    status="sent", sent_at=utcnow(), last_error=None, text_body="", html_body=""
                )
            )
        log.info("mail %s (%s) sent to %s: %s", row.id, row.kind, row.to_address, answer[:200])

    async def _failed(self, row: OutboxMail, exc: MailNotSent) -> None:
        final = exc.permanent or row.attempts >= self.settings.mail_max_attempts
        delay = min(self.settings.mail_retry_interval * 2 ** (row.attempts - 1), MAX_BACKOFF)
        values: dict[str, object] = {"last_error": exc.message[:500]}
        if final:  # the bodies may hold a live link: do not keep them
            values.update(status="failed", text_body="", html_body="")
        else:
            values["next_attempt_at"] = utcnow() + timedelta(seconds=delay)
        async with self._db() as db, db.begin():
            await db.execute(update(OutboxMail).where(OutboxMail.id == row.id).values(**values))
        log.warning(
            "mail %s (%s) to %s not sent (attempt %d%s): %s",
            row.id,
            row.kind,
            row.to_address,
            row.attempts,
            ", given up" if final else f", next in {delay:g} s",
            exc.message,
        )

    async def backlog(self) -> tuple[int, int]:
        """Mails pending, and mails given up on within the last day."""
        async with self._db() as db:
            pending = await db.scalar(select(func.count()).where(OutboxMail.status == "pending"))
            failed = await db.scalar(
                select(func.count()).where(
                    OutboxMail.status == "failed",
                    OutboxMail.created_at > utcnow() - timedelta(days=1),
                )
            )
        return pending or 0, failed or 0
