"""Mail delivery and what accounts require: verified email, a second factor.

Part of the one contract (netra.settings.contract)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from netra.settings.contract.types import Seconds
from netra.settings.spec import AUTH, Environment, Spec

DEPLOYED_ON = {Environment.STAGING: True, Environment.PRODUCTION: True}


def _smtp_url(value: SecretStr) -> SecretStr:
    # The message never repeats the value: it may carry the SMTP password.
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must be smtp://[user:password@]host[:port] or smtps://...")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number between 0 and 65535") from None
    return value


SmtpUrl = Annotated[SecretStr, AfterValidator(_smtp_url)]


class AccountSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- mail (docs/auth.md, "Mail") ---------------------------------------------
    smtp_url: Annotated[
        SmtpUrl | None,
        Spec(
            AUTH,
            "Where mail is sent: smtp://user:password@host:587 (STARTTLS when the server "
            "offers it) or smtps://...:465 (TLS from the start). Without it, mails are "
            "written to DATA_DIR/mail and, in development and test, their links printed.",
            secret=True,
            example="smtps://netra:PASSWORD@smtp.example.com:465",
        ),
    ] = None
    mail_from: Annotated[
        str,
        Field(min_length=3, max_length=320),
        Spec(AUTH, "The From: of every mail.", example="Netra <netra@example.com>"),
    ] = "Netra <netra@localhost>"
    smtp_timeout: Annotated[
        Seconds, Spec(AUTH, "Seconds one SMTP conversation may take before it is retried.")
    ] = 30.0
    mail_retry_interval: Annotated[
        Seconds,
        Spec(
            AUTH,
            "Seconds before a failed mail is tried again; doubles with every attempt "
            "(at most an hour apart).",
        ),
    ] = 30.0
    mail_max_attempts: Annotated[
        int,
        Field(ge=1, le=50),
        Spec(AUTH, "Attempts before a mail is marked failed (admins see it as such)."),
    ] = 8

    # --- what accounts require -----------------------------------------------------
    require_verified_email: Annotated[
        bool,
        Spec(
            AUTH,
            "Refuse sign-in to accounts whose email address is not verified yet.",
            env_defaults=DEPLOYED_ON,
        ),
    ] = False
    require_mfa_for_admins: Annotated[
        bool,
        Spec(
            AUTH,
            "Admin functions refuse (403 mfa_required) a session that did not sign in with "
            "a second factor (a TOTP or recovery code after the password, or a passkey).",
        ),
    ] = False
