"""Where a file's bytes are kept, behind one small interface.

`DatabaseFileStore` keeps them in the chat database (`file_blobs`, SQLite or
PostgreSQL), which suits the embedded default and a modest split deployment. An object
store (S3, GCS) can implement `FileStore` later without touching the rest: the file's
row, its searchable text and its attachments live in the database either way, and
deleting a file or a thread calls `delete` for the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat.models import FileBlob


class FileStore(Protocol):
    async def put(self, file_id: str, data: bytes) -> None:
        """Keep `data` under `file_id` (whose `files` row exists already)."""
        ...

    async def get(self, file_id: str) -> bytes | None:
        """The bytes kept under `file_id`, None if there are none."""
        ...

    async def delete(self, file_ids: Sequence[str]) -> None:
        """Forget the bytes of these files (unknown ids are ignored)."""
        ...


class DatabaseFileStore:
    """Bytes in `file_blobs`, one row a file; the row goes with its file's (ON DELETE
    CASCADE), so `delete` only has work when a file is deleted alone."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db

    async def put(self, file_id: str, data: bytes) -> None:
        async with self.db.begin() as session:
            session.add(FileBlob(file_id=file_id, data=data))

    async def get(self, file_id: str) -> bytes | None:
        async with self.db() as session:
            data: bytes | None = await session.scalar(
                select(FileBlob.data).where(FileBlob.file_id == file_id)
            )
            return data

    async def delete(self, file_ids: Sequence[str]) -> None:
        if file_ids:
            async with self.db.begin() as session:
                await session.execute(delete(FileBlob).where(FileBlob.file_id.in_(file_ids)))
