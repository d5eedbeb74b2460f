"""A thread's messages a page at a time: the branch it shows (root first) or every
message (oldest first), each with its siblings, behind one opaque cursor (the page's last
message and its time)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from netra.chat.errors import BadCursor
from netra.chat.models import Message
from netra.chat.tree import shown_leaf
from netra.chat.tree import skeleton as tree_of


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    # Each item's siblings, itself included, oldest first (netra.chat.tree.sibling_ids).
    siblings: dict[str, list[str]]
    next_cursor: str | None


def encode_cursor(message: Message) -> str:
    raw = f"{message.created_at.isoformat()}|{message.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, message_id = raw.split("|", 1)
        moment = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc
    if moment.tzinfo is None:  # every cursor this server issues carries its UTC offset
        raise BadCursor(cursor)
    return moment, message_id


async def page(
    session: AsyncSession, thread_id: str, limit: int, after: str | None, *, every: bool
) -> MessagePage:
    """A page of the shown branch, root first, or (`every`) of every message, oldest
    first. A cursor whose message left the branch (another was shown meanwhile)
    continues after its time."""
    tree = await tree_of(session, thread_id)
    ids = list(tree.parent) if every else tree.path(await shown_leaf(session, thread_id))
    start = 0
    if after is not None:
        stamp, message_id = decode_cursor(after)
        if message_id in ids:
            start = ids.index(message_id) + 1
        else:
            start = next(
                (n for n, id in enumerate(ids) if (tree.created[id], id) > (stamp, message_id)),
                len(ids),
            )
    chosen = ids[start : start + limit]
    if not chosen:
        return MessagePage([], {}, None)
    rows = {m.id: m for m in await session.scalars(select(Message).where(Message.id.in_(chosen)))}
    items = [rows[id] for id in chosen]
    more = start + limit < len(ids)
    return MessagePage(
        items,
        {id: tree.siblings(id) for id in chosen},
        encode_cursor(items[-1]) if more else None,
    )
