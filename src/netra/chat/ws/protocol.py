"""What travels over /ws (docs/protocol.md is its prose form, checked against this)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from netra import jsontext
from netra.close_codes import Close
from netra.db.base import utcnow
from netra.tokens.scopes import CHAT, CHAT_READ, Scope

SUBPROTOCOL = "netra.v1"
BEARER_PREFIX = "bearer."


class ProtocolError(Exception):
    def __init__(self, code: Close, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str | None, Field(max_length=100)] = None


class SendMessage(Request):
    type: Literal["send_message"]
    thread_id: str
    text: Annotated[str, Field(min_length=1)]
    client_msg_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    model: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    interrupt: bool = False
    file_ids: Annotated[list[Annotated[str, Field(max_length=36)]], Field(max_length=10)] = Field(
        default_factory=list  # a new list, not a deep copy of a shared default
    )
    # The message it follows (null: a new first message); left out: the branch shown.
    parent_id: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    # W3C trace context of the sender: the message's trace continues it (docs/operations.md).
    traceparent: Annotated[
        str | None, Field(pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
    ] = None


class Subscribe(Request):
    type: Literal["subscribe"]
    thread_id: str
    after_seq: int = 0


class Unsubscribe(Request):
    type: Literal["unsubscribe"]
    thread_id: str


class CancelRun(Request):
    type: Literal["cancel_run"]
    run_id: str


class ApproveTool(Request):
    type: Literal["approve_tool"]
    run_id: str
    call_id: Annotated[str, Field(min_length=1, max_length=100)]
    approved: bool
    note: Annotated[str | None, Field(max_length=2000)] = None


class Ping(Request):
    type: Literal["ping"]


# The scope each client message needs (docs/auth.md, "Scopes"): the one declaration.
MESSAGE_SCOPES: dict[str, Scope | None] = {
    "send_message": CHAT,
    "cancel_run": CHAT,
    "approve_tool": CHAT,
    "subscribe": CHAT_READ,
    "unsubscribe": CHAT_READ,
    "ping": None,
}


ClientMessage = Annotated[
    SendMessage | Subscribe | Unsubscribe | CancelRun | ApproveTool | Ping,
    Field(discriminator="type"),
]
CLIENT_ADAPTER: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("send_message", "subscribe", "unsubscribe", "cancel_run", "approve_tool", "ping")
REPLY_TYPES = ("hello", "ack", "error", "pong", "heartbeat")


def parse_client(text: str) -> ClientMessage:
    """A client frame, or ProtocolError(4400) saying what is wrong with it."""
    try:  # a good frame in one step, by pydantic's own JSON parser (4.2 -> 2.2 µs a frame)
        return CLIENT_ADAPTER.validate_json(text)
    except ValidationError:
        pass  # read again below, to say precisely what is wrong
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError(Close.BAD_REQUEST, "malformed JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError(Close.BAD_REQUEST, "a message must be a JSON object")
    kind = data.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(Close.BAD_REQUEST, f"unknown message type {str(kind)[:40]!r}")
    try:
        return CLIENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or kind
        raise ProtocolError(Close.BAD_REQUEST, f"{kind}: {where}: {first['msg']}") from None


def reply(
    kind: str,
    payload: dict[str, Any],
    thread_id: str | None = None,
    run_id: str | None = None,
) -> str:
    """A server message that is not an agent event (seq is null)."""
    return jsontext.dumps(
        {
            "type": kind,
            "thread_id": thread_id,
            "run_id": run_id,
            "seq": None,
            "ts": utcnow().isoformat(),
            "payload": payload,
        }
    )


def ack(
    request: Request, thread_id: str | None = None, run_id: str | None = None, **data: Any
) -> str:
    kind = getattr(request, "type", "")
    return reply("ack", {"request": kind, "id": request.id, **data}, thread_id, run_id)


def error(
    request: Request, code: str, message: str, thread_id: str | None = None, **data: Any
) -> str:
    kind = getattr(request, "type", "")
    payload = {"request": kind, "id": request.id, "code": code, "message": message, **data}
    return reply("error", payload, thread_id)
