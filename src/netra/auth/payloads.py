"""Request and response bodies of the auth API (extra fields such as `id`, `roles` or
`is_admin` are ignored: nothing a client sends can grant itself a role)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
