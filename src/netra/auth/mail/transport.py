"""How a mail leaves: SMTP (aiosmtplib) when SMTP_URL is set, else a file in DATA_DIR/mail.

A transport answers what the server said, or raises `MailNotSent` saying whether trying
again can help (a 5xx answer cannot; a timeout, a refused connection or a 4xx can)."""

from __future__ import annotations

import asyncio
import logging
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from netra.db.base import new_id
from netra.settings import Settings

log = logging.getLogger("netra.mail")
LINK = re.compile(r"https?://\S+")


class MailNotSent(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport(Protocol):
    description: str

    async def send(self, message: EmailMessage) -> str:
        """Deliver `message`; returns the server's answer in words."""
        ...


class SmtpTransport:
    """smtp:// (STARTTLS whenever the server offers it) or smtps:// (TLS from the start)."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout
        self.description = f"{parts.scheme}://{self._host}:{self._port}"  # never credentials

    async def send(self, message: EmailMessage) -> str:
        # aiosmtplib bounds each step (connect, every command) by the timeout itself.
        try:
            errors, answer = await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._user,
                password=self._password,
                use_tls=self._tls,
                start_tls=False if self._tls else None,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPTimeoutError:
            raise MailNotSent(
                f"{self.description} did not answer within {self._timeout:g} s", permanent=False
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            permanent = all(code >= 500 for code in codes)
            said = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise MailNotSent(
                f"{self.description} refused the recipient: {said}", permanent=permanent
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise MailNotSent(
                f"{self.description} answered {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailNotSent(f"cannot reach {self.description}: {exc}", permanent=False) from None
        if errors:
            said = "; ".join(f"{to}: {r.code} {r.message}" for to, r in errors.items())
            raise MailNotSent(f"{self.description} refused {said}", permanent=True)
        return answer


class FileTransport:
    """Without SMTP: each mail becomes an .eml file; in development and test its links are
    also printed, so `make up` works offline (they are single-use and short-lived)."""

    def __init__(self, directory: Path, *, print_links: bool) -> None:
        self.directory = directory
        self.description = f"files in {directory}"
        self._print_links = print_links

    async def send(self, message: EmailMessage) -> str:
        path = self.directory / f"{new_id()}.eml"
        data = message.as_bytes()
        await asyncio.to_thread(self._write, path, data)
        if self._print_links:
            body = message.get_body(("plain",))
            links = LINK.findall(body.get_content() if body is not None else "")
            log.info(
                "mail to %s: %s (written to %s)%s",
                message["To"],
                message["Subject"],
                path,
                "".join(f"\n    {link}" for link in links),
            )
        return f"written to {path}"

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url is not None:
        return SmtpTransport(settings.smtp_url.get_secret_value(), settings.smtp_timeout)
    if not settings.environment.is_local:
        log.warning(
            "SMTP_URL is not set: mails (verification, password reset, notices) are only "
            "written to %s and reach nobody",
            settings.data_dir / "mail",
        )
    return FileTransport(settings.data_dir / "mail", print_links=settings.environment.is_local)
