"""The auth service's tables. The chat backend never imports this module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from netra.db.base import CreatedMixin, IdMixin, UTCDateTime, new_metadata


class AuthBase(DeclarativeBase):
    metadata = new_metadata()


class User(IdMixin, CreatedMixin, AuthBase):
    """An account. `email` is stored normalised (NFKC, case-folded), so it is the identity."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="user")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A deleted account stays as a tombstone without personal data, so the revocations
    # of its sessions keep reaching the backends until its last access token has expired.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(IdMixin, CreatedMixin, AuthBase):
    """One login: the family its rotating refresh tokens belong to."""

    __tablename__ = "user_sessions"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_method: Mapped[str] = mapped_column(String(60), default="password")
    user_agent: Mapped[str | None] = mapped_column(String(400))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(60))


class RefreshToken(IdMixin, CreatedMixin, AuthBase):
    """One refresh token of a session's family; only its SHA-256 is stored."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SigningKey(CreatedMixin, AuthBase):
    """An access-token signing key; published in the JWKS until its last token expires."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    publish_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiKey(CreatedMixin, AuthBase):
    """A personal API key: `nk_<id>_<secret>`, of which only the secret's SHA-256 is kept."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class ServiceAccount(CreatedMixin, AuthBase):
    """A service allowed to get service tokens; two secret hashes during a rotation."""

    __tablename__ = "service_accounts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(IdMixin, CreatedMixin, AuthBase):
    """Sign-ins, failures, refresh replays, revocations, admin actions. No secrets, ever."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_user_created", "user_id", "created_at"),)

    event: Mapped[str] = mapped_column(String(60), index=True)
    user_id: Mapped[str | None] = mapped_column(String(36))
    actor: Mapped[str | None] = mapped_column(String(120))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")


class OidcIdentity(IdMixin, CreatedMixin, AuthBase):
    """An account at an OpenID provider linked to a user: the issuer's stable `sub`."""

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(30))
    issuer: Mapped[str] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OidcLogin(IdMixin, CreatedMixin, AuthBase):
    """One sign-in through a provider: `state`, `nonce` and the PKCE verifier, bound to the
    browser by a cookie (hashes only), single-use; then the handoff to the web UI."""

    __tablename__ = "oidc_logins"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(30))
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handoff_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccountToken(IdMixin, CreatedMixin, AuthBase):
    """A single-use token mailed or handed to a user (verify an address, reset a
    password, finish a two-step sign-in). Only its SHA-256 is stored."""

    __tablename__ = "account_tokens"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address a verification link proves, or the one a reset link was sent to.
    email: Mapped[str | None] = mapped_column(String(320))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sign-in's second step: how the first was made (`password`, `oidc:<provider>`),
    # and the provider identity to link once the code is given (JSON of a PendingLink).
    first_factor: Mapped[str | None] = mapped_column(String(40))
    pending_link: Mapped[str | None] = mapped_column(Text)


class OutboxMail(IdMixin, CreatedMixin, AuthBase):
    """A mail waiting to be sent, sent, or given up on. Its bodies (which may hold a
    link with a token) are erased once it is sent or has failed for good."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TotpFactor(CreatedMixin, AuthBase):
    """A user's TOTP secret (sealed with KEY_ENCRYPTION_KEY). Unconfirmed until the first
    code; `last_step` is the newest time step accepted, so no code is accepted twice."""

    __tablename__ = "mfa_totp"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(IdMixin, CreatedMixin, AuthBase):
    """One single-use recovery code; only its SHA-256 is kept."""

    __tablename__ = "mfa_recovery_codes"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Passkey(IdMixin, CreatedMixin, AuthBase):
    """A WebAuthn credential (discoverable) a user signs in with."""

    __tablename__ = "passkeys"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebauthnChallenge(IdMixin, CreatedMixin, AuthBase):
    """A challenge handed to a browser (its SHA-256), single-use and short-lived; a
    registration's is bound to the user, a sign-in's to nobody yet."""

    __tablename__ = "webauthn_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
