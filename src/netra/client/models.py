"""What the SDK hands back: small frozen records of the server's JSON, and the parsers
that build them (one place, so a field the server adds is added once)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None = None


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Thread:
    id: str
    title: str
    last_seq: int
    # Its default catalog model; None: the server's default.
    model: str | None = None
    # The assistant it was started with (GET /api/assistants).
    assistant_id: str = "builtin"
    # The last message of the branch it shows.
    active_leaf_id: str | None = None


@dataclass(frozen=True)
class Model:
    """A catalog model the signed-in user may use (GET /api/models)."""

    id: str
    label: str
    capabilities: tuple[str, ...]
    default: bool


@dataclass(frozen=True)
class Assistant:
    """A preset of instructions, model, tools and starter prompts (GET /api/assistants):
    `kind` is builtin, catalog or shared (for everyone) or personal (the caller's)."""

    id: str
    name: str
    instructions: str
    model: str | None
    tools: tuple[str, ...]
    starters: tuple[str, ...]
    kind: str
    editable: bool


def thread_from(row: dict[str, Any]) -> Thread:
    assistant_id = row.get("assistant_id") or "builtin"
    return Thread(
        row["id"],
        row["title"],
        row["last_seq"],
        row.get("model"),
        assistant_id,
        row.get("active_leaf_id"),
    )


def assistant_from(row: dict[str, Any]) -> Assistant:
    return Assistant(
        id=row["id"],
        name=row["name"],
        instructions=row["instructions"],
        model=row["model"],
        tools=tuple(row["tools"]),
        starters=tuple(row["starters"]),
        kind=row["kind"],
        editable=row["editable"],
    )
