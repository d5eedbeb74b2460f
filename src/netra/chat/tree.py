"""Messages as a tree: each has a `parent_id`, siblings are alternatives (an edited
question, a regenerated answer), and the thread's `active_leaf_id` picks the branch shown.
Branches are walked in Python over the thread's skeleton (ids and parents, one indexed
read), not with recursive SQL whose plan each database picks differently. No statement
here rewrites a message: a branch is data, and the event log stays as it was."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from enum import Enum

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from netra.chat.errors import NoSuchMessage
from netra.chat.models import messages_table, threads_table
from netra.db.lists import in_list

_m = messages_table


class Shown(Enum):
    """The parent of a message that names none: the message its thread shows last."""

    LEAF = "leaf"


SHOWN_LEAF = Shown.LEAF


class Skeleton:
    """A thread's messages without their text, oldest first: enough to walk branches."""

    def __init__(self, rows: list[tuple[str, str | None, datetime]]) -> None:
        self.parent = {id: parent for id, parent, _ in rows}
        self.created = {id: created for id, _, created in rows}
        self.children: dict[str | None, list[str]] = defaultdict(list)
        for id, parent, _ in rows:
            self.children[parent].append(id)

    def path(self, leaf: str | None) -> list[str]:
        """The ids from a root down to `leaf` (empty if it is not in the thread)."""
        path: list[str] = []
        at = leaf
        # The bound only stops a (corrupt) cycle: a path is never longer than the thread.
        while at is not None and at in self.parent and len(path) < len(self.parent):
            path.append(at)
            at = self.parent[at]
        return path[::-1]

    def siblings(self, id: str) -> list[str]:
        """The messages with `id`'s parent, itself included, oldest first."""
        return self.children.get(self.parent.get(id), [id])

    def newest_under(self, id: str) -> str:
        """The newest message of `id`'s subtree (itself included): a leaf, as a child is
        newer than its parent; where the user last left that branch."""
        newest, todo = id, [id]
        while todo:
            at = todo.pop()
            if (self.created[at], at) > (self.created[newest], newest):
                newest = at
            todo.extend(self.children.get(at, ()))
        return newest


_SKELETON = (
    select(_m.c.id, _m.c.parent_id, _m.c.created_at)
    .where(_m.c.thread_id == bindparam("b_thread"))
    .order_by(_m.c.created_at, _m.c.id)
)
# Every turn of a thread of `b_user`'s, for the branch a run answers (and of several
# threads at once, with their owners: netra.chat.lookups).
_TURNS = (
    select(_m.c.id, _m.c.parent_id, _m.c.role, _m.c.content)
    .join(threads_table, threads_table.c.id == _m.c.thread_id)
    .where(_m.c.thread_id == bindparam("b_thread"), threads_table.c.user_id == bindparam("b_user"))
)
TURNS_OF_THREADS = (
    select(
        _m.c.thread_id, threads_table.c.user_id, _m.c.id, _m.c.parent_id, _m.c.role, _m.c.content
    )
    .join(threads_table, threads_table.c.id == _m.c.thread_id)
    .where(in_list(_m.c.thread_id, "b_threads"))
)
_CHILDREN = (
    select(_m.c.id)
    .where(_m.c.thread_id == bindparam("b_thread"))
    .order_by(_m.c.created_at, _m.c.id)
)
_SHOWN = select(threads_table.c.active_leaf_id).where(threads_table.c.id == bindparam("b_thread"))
_IN_THREAD = select(_m.c.id).where(
    _m.c.id == bindparam("b_id"), _m.c.thread_id == bindparam("b_thread")
)
_SHOW = (
    update(threads_table)
    .where(threads_table.c.id == bindparam("b_thread"))
    .values(active_leaf_id=bindparam("b_leaf"))
)


async def skeleton(session: AsyncSession, thread_id: str) -> Skeleton:
    rows = await session.execute(_SKELETON, {"b_thread": thread_id})
    return Skeleton([(id, parent, created) for id, parent, created in rows])


async def history(
    session: AsyncSession, user_id: str, thread_id: str, message_id: str, *, before: bool = False
) -> list[tuple[str, str]]:
    """(role, content) of the turns of `message_id`'s branch, root first, up to it
    (`before`: without it); nothing unless the thread is `user_id`'s."""
    rows = await session.execute(_TURNS, {"b_thread": thread_id, "b_user": user_id})
    turns = {id: (parent, role, content) for id, parent, role, content in rows}
    return branch(turns, message_id, before=before)


# A thread's turns: message id -> (parent id, role, content).
Turns = dict[str, tuple[str | None, str, str]]


def branch(turns: Turns, message_id: str, *, before: bool = False) -> list[tuple[str, str]]:
    """(role, content) of the turns of `message_id`'s branch, root first, up to it
    (`before`: without it)."""
    path: list[tuple[str, str]] = []
    at = turns[message_id][0] if before and message_id in turns else message_id
    while at is not None and at in turns and len(path) < len(turns):
        parent, role, content = turns[at]
        path.append((role, content))
        at = parent
    return path[::-1]


async def siblings(session: AsyncSession, thread_id: str, parent_id: str | None) -> list[str]:
    """The messages following `parent_id` (None: the roots), oldest first."""
    query = _CHILDREN.where(
        _m.c.parent_id.is_(None) if parent_id is None else _m.c.parent_id == parent_id
    )
    return list(await session.scalars(query, {"b_thread": thread_id}))


async def shown_leaf(session: AsyncSession, thread_id: str) -> str | None:
    """The message the thread shows last: a new message's parent when it names none."""
    leaf: str | None = await session.scalar(_SHOWN, {"b_thread": thread_id})
    return leaf


async def parent_for(
    session: AsyncSession, thread_id: str, parent_id: str | Shown | None
) -> str | None:
    """The parent a new message gets: the shown leaf, or `parent_id` if it is a message of
    this thread (None: a new root), else NoSuchMessage."""
    if parent_id is SHOWN_LEAF:
        return await shown_leaf(session, thread_id)
    if parent_id is None:
        return None
    found = await session.scalar(_IN_THREAD, {"b_id": parent_id, "b_thread": thread_id})
    if found is None:
        raise NoSuchMessage(str(parent_id), " in this thread (parent_id)")
    return str(parent_id)


async def show(session: AsyncSession, thread_id: str, leaf: str) -> None:
    await session.execute(_SHOW, {"b_thread": thread_id, "b_leaf": leaf})


async def show_branch(session: AsyncSession, thread_id: str, message_id: str) -> str:
    """Show the branch through `message_id`, down to its newest message; returns that
    leaf. NoSuchMessage unless the message is in this thread."""
    tree = await skeleton(session, thread_id)
    if message_id not in tree.parent:
        raise NoSuchMessage(message_id, " in this thread")
    leaf = tree.newest_under(message_id)
    await show(session, thread_id, leaf)
    return leaf
