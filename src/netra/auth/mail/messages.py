"""What Netra mails, as plain text and HTML. Every link is PUBLIC_URL + a web UI route
with the token as its `token` query parameter."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from urllib.parse import urlencode

from netra.settings import Settings

VERIFY_ROUTE = "/verify-email"
RESET_ROUTE = "/reset-password"


@dataclass(frozen=True)
class Mail:
    kind: str
    to: str
    subject: str
    text: str
    html: str


def link_base(settings: Settings) -> str:
    """Where users open the web UI: PUBLIC_URL, else the auth service's own address."""
    base = settings.public_url or settings.auth_service_url or "http://127.0.0.1:8000"
    return str(base).rstrip("/")


def link(settings: Settings, route: str, token: str) -> str:
    return f"{link_base(settings)}{route}?{urlencode({'token': token})}"


def _mail(
    kind: str, to: str, subject: str, lines: list[str], action: tuple[str, str] | None
) -> Mail:
    text = "\n\n".join(lines)
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    if action is not None:
        label, url = action
        text += f"\n\n{label}: {url}"
        html += f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p>'
        html += f"<p>Or paste this address into your browser: {escape(url)}</p>"
    text += "\n\nIf this was not you, you can ignore this mail or contact your administrator."
    html += "<p>If this was not you, you can ignore this mail or contact your administrator.</p>"
    return Mail(kind, to, subject, text + "\n", f"<!doctype html><html><body>{html}</body></html>")


def verify_email(settings: Settings, to: str, token: str, *, change: bool = False) -> Mail:
    lines = [
        f"Please confirm that {to} is your address"
        + (" before it replaces your account's current one." if change else "."),
        "The link works once, for 24 hours.",
    ]
    url = link(settings, VERIFY_ROUTE, token)
    return _mail("verify_email", to, "Confirm your email address", lines, ("Confirm", url))


def password_reset(settings: Settings, to: str, token: str) -> Mail:
    lines = [
        "Someone (hopefully you) asked to reset the password of your Netra account.",
        "The link works once, for 30 minutes; your password stays as it is until you use it.",
    ]
    url = link(settings, RESET_ROUTE, token)
    return _mail("password_reset", to, "Reset your password", lines, ("Choose a new password", url))


def notice(kind: str, to: str, subject: str, *lines: str) -> Mail:
    """A security notice: something changed on the account."""
    return _mail(kind, to, subject, list(lines), None)


def compose(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain="netra")
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message
