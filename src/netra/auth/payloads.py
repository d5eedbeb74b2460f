"""Request and response bodies of the auth API (extra fields such as `id`, `roles` or
`is_admin` are ignored: nothing a client sends can grant itself a role)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from netra.auth.passwords import MAX_PASSWORD_LENGTH


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RegisterIn(Body):
    email: str = Field(max_length=1024)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    name: str | None = Field(default=None, max_length=200)


class RegisterOut(BaseModel):
    email: str
    message: str


class LoginIn(Body):
    email: str = Field(max_length=1024)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class RefreshIn(Body):
    refresh_token: str = Field(max_length=1024)


class PasswordIn(Body):
    current_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    revoke_api_keys: bool = Field(
        default=True,
        description="Also revoke every API key (a key made with a stolen session outlives "
        "the password otherwise).",
    )


class PasswordChanged(BaseModel):
    revoked: int = Field(description="Other sessions signed out.")
    revoked_api_keys: int = Field(description="API keys revoked (0 with revoke_api_keys=false).")


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str | None = Field(
        description="Absent with the cookie transport (`X-Netra-Refresh: cookie`)."
    )
    session_id: str


class MeOut(BaseModel):
    id: str
    email: str
    name: str | None
    role: str
    roles: list[str]
    created_at: datetime
    credential: str
    session_id: str | None
    email_verified: bool
    mfa_enabled: bool
    passkeys: int


class SessionOut(BaseModel):
    id: str
    auth_method: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    revoked_at: datetime | None = None
    current: bool = False


class UserOut(BaseModel):
    id: str
    email: str
    name: str | None
    role: str
    is_active: bool
    created_at: datetime
    disabled_at: datetime | None


class UserPage(BaseModel):
    users: list[UserOut]
    total: int


class AuditOut(BaseModel):
    event: str
    created_at: datetime
    actor: str | None
    ip_address: str | None
    detail: dict[str, Any]
    user_id: str | None = None


class Revoked(BaseModel):
    revoked: int


class ApiKeyIn(Body):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["chat"], max_length=10)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    password: str | None = Field(
        default=None,
        max_length=MAX_PASSWORD_LENGTH,
        description="The account's current password: an access token alone (which script "
        "injected into the page could hold) cannot mint a long-lived key. Accounts without "
        "a password sign in again at their provider instead (docs/auth.md).",
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="Shown once: store it now.")


class ServiceTokenIn(Body):
    service_id: str = Field(max_length=100)
    service_secret: str = Field(max_length=1024)


class ServiceTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class IntrospectIn(Body):
    api_key: str = Field(max_length=1024)


class TokenIn(Body):
    token: str = Field(max_length=1024)


class Accepted(BaseModel):
    message: str


class EmailVerifiedOut(BaseModel):
    email: str
    email_verified: bool


class EmailChangeIn(Body):
    new_email: str = Field(max_length=1024)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class ForgotIn(Body):
    email: str = Field(max_length=1024)


class ResetIn(Body):
    token: str = Field(max_length=1024)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class MailOut(BaseModel):
    id: str
    kind: str
    to: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


class MailPage(BaseModel):
    mails: list[MailOut]
    pending: int
    failed_today: int


class PasswordOnlyIn(Body):
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class TotpSetupOut(BaseModel):
    secret: str = Field(description="Base32, for apps that cannot scan the QR code.")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code, an SVG element.")


class CodeIn(Body):
    code: str = Field(max_length=64)


class TotpDisableIn(Body):
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    code: str = Field(max_length=64)


class RecoveryCodesOut(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once.")


class MfaRequiredOut(BaseModel):
    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Single-use, 5 minutes: POST /auth/login/mfa.")
    methods: list[str]


class LoginMfaIn(Body):
    mfa_token: str = Field(max_length=1024)
    code: str | None = Field(default=None, max_length=64)
    recovery_code: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def one_factor(self) -> LoginMfaIn:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either code or recovery_code")
        return self


class PasskeyBeginIn(Body):
    password: str | None = Field(default=None, max_length=MAX_PASSWORD_LENGTH)
    code: str | None = Field(default=None, max_length=64)


class PasskeyFinishIn(Body):
    credential: dict[str, Any] = Field(description="The browser's PublicKeyCredential as JSON.")
    name: str | None = Field(default=None, max_length=100)


class PasskeyLoginIn(Body):
    credential: dict[str, Any]


class PasskeyRenameIn(Body):
    name: str = Field(min_length=1, max_length=100)


class PasskeyOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
