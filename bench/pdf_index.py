"""Indexing throughput of a PDF upload (default 200 pages): the whole path of
`POST /api/threads/{id}/files` below HTTP (netra.chat.files: sniff, pypdf text in a
worker thread, passages, FTS index, bytes stored), beside the same text uploaded as a
plain-text file in the same run, on SQLite and/or PostgreSQL. Prints pages/s and how
many times the plain-text upload's cost the PDF's is (the price of pypdf).

    uv run python bench/pdf_index.py [--pages 200] [--runs 3] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

from netra import db
from netra.chat.files import DatabaseFileStore, FileLibrary
from netra.chat.files.extract import pdf_text
from netra.chat.models import Thread
from netra.chat.schema import CHAT_SCHEMA
from netra.db.base import utcnow
from netra.settings import Service, Settings, load_settings
from netra.testing.pdfs import text_pdf

USER = "bench-user"
LINES_PER_PAGE = 40
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def pages_of_prose(count: int, rng: random.Random) -> list[str]:
    words = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)
    ]
    return [
        "\n".join(" ".join(rng.choices(words, k=12)) for _ in range(LINES_PER_PAGE))
        for _ in range(count)
    ]


def settings_for(url: str) -> Settings:
    return load_settings(
        list(Service),
        {
            "ENVIRONMENT": "test",
            "DATABASE_URL": url,
            "FILE_MAX_BYTES": str(64 * 2**20),
            "THREAD_FILES_MAX_BYTES": str(2**30),
            "USER_FILES_MAX_BYTES": str(2**31),
            "PDF_MAX_PAGES": "100000",
            "PDF_MAX_SECONDS": "3600",
        },
    )


async def median_seconds(run: Callable[[], Awaitable[Any]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


async def measure(kind: str, url: str, pdf: bytes, pages: int, runs: int) -> None:
    settings = settings_for(url)
    engine: AsyncEngine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(
                lambda sync: command.upgrade(CHAT_SCHEMA.config(sync), "head")
            )
            await connection.commit()
        sessions = db.sessionmaker(engine)
        library = FileLibrary(sessions, DatabaseFileStore(sessions), settings)

        async def thread() -> str:
            row = Thread(user_id=USER, title="bench", last_seq=0, updated_at=utcnow())
            async with sessions.begin() as session:
                session.add(row)
            return row.id

        extracted = await pdf_text(pdf, max_pages=pages, max_seconds=3600, max_chars=2**31)
        plain = "\n\n".join(text for _, text in extracted.pages).encode()

        async def upload_pdf() -> None:
            await library.upload(USER, await thread(), "doc.pdf", pdf)

        async def upload_text() -> None:
            await library.upload(USER, await thread(), "doc.txt", plain)

        async def extract_only() -> None:
            await pdf_text(pdf, max_pages=pages, max_seconds=3600, max_chars=2**31)

        await upload_text()  # warm the connection pool and the statement caches
        as_text = await median_seconds(upload_text, runs)
        as_pdf = await median_seconds(upload_pdf, runs)
        extraction = await median_seconds(extract_only, runs)
    finally:
        await engine.dispose()
    print(
        f"{pages}-page PDF ({len(pdf) / 2**20:.1f} MB, {len(plain):,} characters of text), "
        f"{kind}, median of {runs} runs"
    )
    for label, seconds in (
        ("PDF upload (pypdf + index)", as_pdf),
        ("  of which pypdf text", extraction),
        ("same text as a .txt upload", as_text),
    ):
        print(f"  {label:<28} {seconds:8.3f} s  {pages / seconds:10.1f} pages/s")
    print(f"  PDF / plain text: {as_pdf / as_text:.1f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    pdf = text_pdf(pages_of_prose(args.pages, random.Random(7)))
    for kind in args.db.split(","):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="netra-bench-pdf-") as home:
                await measure(
                    kind, f"sqlite:///{Path(home) / 'netra.db'}", pdf, args.pages, args.runs
                )
            continue
        name = f"netra_bench_{uuid.uuid4().hex[:10]}"
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
            await measure(kind, url, pdf, args.pages, args.runs)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
