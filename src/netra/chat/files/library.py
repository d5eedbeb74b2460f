"""The files of a user's threads: uploaded through every limit, indexed, listed, read,
attached to messages and deleted, always through their owner (another user's file reads
as absent)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.agents.runtime import Attachment
from netra.chat.errors import (
    FileNotInThread,
    FileTooLarge,
    NoSuchFile,
    ThreadFilesFull,
    TooManyFiles,
    UserFilesFull,
)
from netra.chat.files.extract import Extracted, passages, pdf_text, plain_text
from netra.chat.files.sniff import PDF, Sniffed, decode_text, safe_name, sniff
from netra.chat.files.store import FileStore
from netra.chat.models import File, FileChunk, MessageFile, file_chunks_table
from netra.chat.search import insert_searchable
from netra.db.base import new_id
from netra.settings import Settings

MAX_ATTACHMENTS = 10


class FileLibrary:
    def __init__(
        self, db: async_sessionmaker[AsyncSession], store: FileStore, settings: Settings
    ) -> None:
        self.db = db
        self.store = store
        self.settings = settings

    async def upload(self, user_id: str, thread_id: str, raw_name: str | None, data: bytes) -> File:
        """Sniff, check every limit, read the text and keep it all; the thread must be
        the user's (the caller checks). Raises the chat errors naming what was refused."""
        settings = self.settings
        if len(data) > settings.file_max_bytes:
            raise FileTooLarge("this file", "FILE_MAX_BYTES", settings.file_max_bytes)
        name = safe_name(raw_name)
        sniffed = sniff(data, name)
        if sniffed.is_image and len(data) > settings.file_image_max_bytes:
            raise FileTooLarge("this image", "FILE_IMAGE_MAX_BYTES", settings.file_image_max_bytes)
        await self._check_room(user_id, thread_id, len(data))
        extracted = await self._text(sniffed, data)
        row = File(
            id=new_id(),
            thread_id=thread_id,
            user_id=user_id,
            name=name,
            content_type=sniffed.content_type,
            size=len(data),
            text_chars=extracted.chars,
            text_note=extracted.note,
        )
        chunks = [
            {"id": new_id(), "file_id": row.id, "seq": seq, "page": p.page, "content": p.text}
            for seq, p in enumerate(passages(extracted))
        ]
        async with self.db.begin() as session:
            session.add(row)
            await session.flush()
            await insert_searchable(session, file_chunks_table, chunks)
        try:
            await self.store.put(row.id, data)
        except BaseException:
            async with self.db.begin() as session:
                await session.execute(delete(File).where(File.id == row.id))
            raise
        return row

    async def _text(self, sniffed: Sniffed, data: bytes) -> Extracted:
        settings = self.settings
        if sniffed.text is not None:
            return plain_text(sniffed.text, settings.file_max_text_chars)
        if sniffed.content_type == PDF:
            return await pdf_text(
                data,
                max_pages=settings.pdf_max_pages,
                max_seconds=settings.pdf_max_seconds,
                max_chars=settings.file_max_text_chars,
            )
        return Extracted([])

    async def _check_room(self, user_id: str, thread_id: str, size: int) -> None:
        async with self.db() as session:
            in_thread = await session.scalar(
                select(func.coalesce(func.sum(File.size), 0)).where(File.thread_id == thread_id)
            )
            in_all = await session.scalar(
                select(func.coalesce(func.sum(File.size), 0)).where(File.user_id == user_id)
            )
        if int(in_thread or 0) + size > self.settings.thread_files_max_bytes:
            raise ThreadFilesFull(self.settings.thread_files_max_bytes)
        if int(in_all or 0) + size > self.settings.user_files_max_bytes:
            raise UserFilesFull(self.settings.user_files_max_bytes)

    async def in_thread(self, thread_id: str) -> list[File]:
        async with self.db() as session:
            rows = await session.scalars(
                select(File).where(File.thread_id == thread_id).order_by(File.created_at, File.id)
            )
            return list(rows)

    async def get(self, user_id: str, file_id: str) -> File:
        async with self.db() as session:
            row = await session.scalar(
                select(File).where(File.id == file_id, File.user_id == user_id)
            )
        if row is None:
            raise NoSuchFile(file_id)
        return row

    async def read(self, user_id: str, file_id: str) -> tuple[File, bytes]:
        row = await self.get(user_id, file_id)
        data = await self.store.get(row.id)
        if data is None:
            raise NoSuchFile(file_id)
        return row, data

    async def delete(self, user_id: str, file_id: str) -> None:
        """The file, its text and its attachments to messages (the messages stay)."""
        async with self.db.begin() as session:
            gone = await session.execute(
                delete(File).where(File.id == file_id, File.user_id == user_id)
            )
        if not getattr(gone, "rowcount", 0):
            raise NoSuchFile(file_id)
        await self.store.delete([file_id])

    async def forget_thread(self, thread_id: str) -> None:
        """The bytes of a thread's files, before the thread goes (its rows cascade)."""
        await self.store.delete([f.id for f in await self.in_thread(thread_id)])

    async def attachable(self, user_id: str, thread_id: str, file_ids: Sequence[str]) -> list[str]:
        """`file_ids` without repeats, each the user's file in this thread, else
        NoSuchFile (missing or another user's) or FileNotInThread."""
        wanted = list(dict.fromkeys(file_ids))
        if len(wanted) > MAX_ATTACHMENTS:
            raise TooManyFiles(MAX_ATTACHMENTS)
        if not wanted:
            return []
        async with self.db() as session:
            rows = await session.execute(
                select(File.id, File.thread_id).where(File.id.in_(wanted), File.user_id == user_id)
            )
            threads: dict[str, str] = {row.id: row.thread_id for row in rows}
        for file_id in wanted:
            if file_id not in threads:
                raise NoSuchFile(file_id)
            if threads[file_id] != thread_id:
                raise FileNotInThread(file_id)
        return wanted

    async def of_messages(self, message_ids: Sequence[str]) -> dict[str, list[File]]:
        """The files attached to each of these messages, in the order they were given."""
        if not message_ids:
            return {}
        async with self.db() as session:
            rows = await session.execute(
                select(MessageFile.message_id, File)
                .join(File, File.id == MessageFile.file_id)
                .where(MessageFile.message_id.in_(message_ids))
                .order_by(MessageFile.position)
            )
            attached: dict[str, list[File]] = {}
            for message_id, row in rows:
                attached.setdefault(message_id, []).append(row)
        return attached

    async def for_run(self, message_id: str) -> tuple[Attachment, ...]:
        """The message's files as its run gives them to the model: small text whole,
        images as data URLs, the rest by name."""
        files = (await self.of_messages([message_id])).get(message_id, [])
        return tuple([await self._attachment(row) for row in files])

    async def _attachment(self, row: File) -> Attachment:
        base = Attachment(row.id, row.name, row.content_type, row.size, note=row.text_note)
        if row.content_type.startswith("image/"):
            data = await self.store.get(row.id)
            if data is None:
                return base
            encoded = base64.b64encode(data).decode()
            return replace(base, image_url=f"data:{row.content_type};base64,{encoded}")
        if not 0 < row.text_chars <= self.settings.file_context_chars:
            return base
        if row.content_type == PDF:
            async with self.db() as session:
                texts = await session.scalars(
                    select(FileChunk.content)
                    .where(FileChunk.file_id == row.id)
                    .order_by(FileChunk.seq)
                )
                return replace(base, text="\n\n".join(texts))
        data = await self.store.get(row.id)  # a text file: as written, indentation and all
        return replace(base, text=decode_text(data) if data is not None else None)
