"""Read-only shares of a thread, and feedback on answers.

A share is a snapshot frozen when it is made (later messages do not appear), reachable by
whoever holds its URL, which carries a random token; only the token's SHA-256 is stored,
so the URL is shown once. The snapshot holds no ids and no owner identity unless the owner
gives a name to show. Revoking ends it at once (the page and its data answer 404).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat.errors import BadCursor, NoSuchMessage, NoSuchShare, NotAnAnswer
from netra.chat.models import Feedback, Message, Run, RunEvent, Share, Thread
from netra.chat.transcript import ThreadDoc, shown_branch, tool_calls
from netra.db.base import new_id, utcnow

TOKEN_BYTES = 24


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def snapshot(doc: ThreadDoc, author: str | None) -> dict[str, Any]:
    """What a share shows: the branch shown, each answer's tool calls, no ids."""
    runs = {run.id: run for run in doc.runs}
    messages = []
    for message in shown_branch(doc):
        run = runs.get(message.run_id or "") if message.role == "assistant" else None
        messages.append(
            {
                "role": message.role,
                "content": message.content,
                "created_at": message.created_at.isoformat(),
                "tool_calls": [
                    call.model_dump(mode="json", exclude={"call_id"})
                    for call in (run.tool_calls if run else [])
                ],
            }
        )
    return {"title": doc.thread.title, "author": author, "messages": messages}


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str


class Shares:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db

    async def create(
        self, user_id: str, thread: Thread, doc: ThreadDoc, author: str | None
    ) -> NewShare:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        share = Share(
            id=new_id(),
            thread_id=thread.id,
            user_id=user_id,
            token_hash=token_hash(token),
            snapshot=snapshot(doc, author),
            created_at=utcnow(),
        )
        async with self.db.begin() as session:
            session.add(share)
        return NewShare(share, token)

    async def list_for(self, user_id: str, thread_id: str) -> list[Share]:
        async with self.db() as session:
            rows = await session.scalars(
                select(Share)
                .where(Share.user_id == user_id, Share.thread_id == thread_id)
                .order_by(Share.created_at.desc())
            )
            return list(rows)

    async def revoke(self, user_id: str, share_id: str) -> None:
        async with self.db.begin() as session:
            done = await session.execute(
                update(Share)
                .where(Share.id == share_id, Share.user_id == user_id, Share.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise NoSuchShare

    async def public(self, token: str) -> Share:
        """The live share behind `token`; NoSuchShare for unknown, malformed or revoked."""
        if not 20 <= len(token) <= 64:
            raise NoSuchShare
        async with self.db() as session:
            share = await session.scalar(
                select(Share).where(
                    Share.token_hash == token_hash(token), Share.revoked_at.is_(None)
                )
            )
        if share is None:
            raise NoSuchShare
        return share


@dataclass(frozen=True)
class FeedbackRow:
    feedback: Feedback
    run: Run | None
    model: str | None
    tools: list[str]


def _cursor(feedback: Feedback) -> str:
    raw = f"{feedback.updated_at.isoformat()}|{feedback.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, feedback_id = raw.split("|", 1)
        moment = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(cursor[:100]) from exc
    if moment.tzinfo is None:
        raise BadCursor(cursor[:100])
    return moment, feedback_id


class FeedbackStore:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db

    async def rate(
        self, user_id: str, message_id: str, rating: int, comment: str | None
    ) -> Feedback:
        """The user's one rating of an answer in their own thread, replaced when given again."""
        async with self.db.begin() as session:
            message = await session.scalar(
                select(Message)
                .join(Thread, Thread.id == Message.thread_id)
                .where(Message.id == message_id, Thread.user_id == user_id)
            )
            if message is None:
                raise NoSuchMessage(message_id)
            if message.role != "assistant":
                raise NotAnAnswer(message_id)
            feedback = await session.scalar(
                select(Feedback).where(
                    Feedback.message_id == message_id, Feedback.user_id == user_id
                )
            )
            now = utcnow()
            if feedback is None:
                feedback = Feedback(
                    id=new_id(), message_id=message_id, user_id=user_id, created_at=now
                )
                session.add(feedback)
            feedback.rating, feedback.comment, feedback.updated_at = rating, comment, now
        return feedback

    async def recent(
        self, limit: int, cursor: str | None, rating: int | None
    ) -> tuple[list[FeedbackRow], str | None]:
        """Everyone's feedback, newest first, with the rated run's model and tools."""
        query = select(Feedback, Message).join(Message, Message.id == Feedback.message_id)
        if rating is not None:
            query = query.where(Feedback.rating == rating)
        if cursor:
            moment, feedback_id = _after(cursor)
            query = query.where(
                or_(
                    Feedback.updated_at < moment,
                    and_(Feedback.updated_at == moment, Feedback.id < feedback_id),
                )
            )
        query = query.order_by(Feedback.updated_at.desc(), Feedback.id.desc()).limit(limit + 1)
        async with self.db() as session:
            pairs = (await session.execute(query)).all()
            run_ids = [m.run_id for _, m in pairs[:limit] if m.run_id]
            runs = {r.id: r for r in await session.scalars(select(Run).where(Run.id.in_(run_ids)))}
            events = (
                await session.scalars(
                    select(RunEvent).where(
                        RunEvent.run_id.in_(run_ids),
                        RunEvent.type.in_(("agent_started", "tool_executing")),
                    )
                )
            ).all()
        models = {e.run_id: e.payload.get("model") for e in events if e.type == "agent_started"}
        calls = tool_calls(list(events))
        rows = [
            FeedbackRow(
                feedback,
                runs.get(message.run_id or ""),
                models.get(message.run_id or ""),
                sorted({call.tool for call in calls.get(message.run_id or "", [])}),
            )
            for feedback, message in pairs[:limit]
        ]
        more = len(pairs) > limit
        return rows, _cursor(pairs[limit - 1][0]) if more else None
