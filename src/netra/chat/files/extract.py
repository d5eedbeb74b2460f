"""A file's text, and that text cut into passages for full-text search.

PDF text comes from `pypdf`, in a worker thread (it is CPU work), under caps a hostile
file cannot pass: pages read (PDF_MAX_PAGES), time spent (PDF_MAX_SECONDS), bytes one
compressed stream may inflate to (PDF_MAX_STREAM_BYTES, against zip bombs) and
characters kept (FILE_MAX_TEXT_CHARS). Past a page, time or character cap the text read
so far is kept and flagged with a note; a PDF that cannot be read at all is refused.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from netra.chat.errors import UnreadablePdf

log = logging.getLogger(__name__)
# No single stream of an uploaded PDF may inflate past this (pypdf's own default is 75 MB).
PDF_MAX_STREAM_BYTES = 16 * 1024 * 1024
CHUNK_CHARS = 1200
_STREAM_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "jbig2_maximum_output_length",
    "brotli_maximum_output_length",
    "array_based_stream_maximum_output_length",
    "maximum_declared_stream_length",
)


@dataclass(frozen=True)
class Passage:
    text: str
    page: int | None = None  # 1-based, for a PDF


@dataclass(frozen=True)
class Extracted:
    pages: list[tuple[int | None, str]]  # (page number or None, its text)
    note: str | None = None  # why the text is partial

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.pages)


def plain_text(text: str, max_chars: int) -> Extracted:
    """A text file's text, capped at `max_chars`."""
    text = text.replace("\x00", "")
    if len(text) <= max_chars:
        return Extracted([(None, text)])
    return Extracted(
        [(None, text[:max_chars])],
        f"only the first {max_chars} characters are searchable (FILE_MAX_TEXT_CHARS)",
    )


async def pdf_text(data: bytes, *, max_pages: int, max_seconds: float, max_chars: int) -> Extracted:
    """A PDF's text page by page, read in a worker thread; UnreadablePdf if it cannot be
    read at all."""
    return await asyncio.to_thread(_pdf_text, data, max_pages, max_seconds, max_chars)


def _pdf_text(data: bytes, max_pages: int, max_seconds: float, max_chars: int) -> Extracted:
    # Imported here: only uploads of PDFs need it.
    import pypdf  # noqa: PLC0415
    from pypdf.errors import PyPdfError  # noqa: PLC0415

    limits = dict.fromkeys(_STREAM_LIMITS, PDF_MAX_STREAM_BYTES)
    deadline = time.monotonic() + max_seconds
    try:
        with pypdf.apply_configuration(None, **limits):
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise UnreadablePdf("this PDF is encrypted: upload a copy without a password")
            total = len(reader.pages)
            pages: list[tuple[int | None, str]] = []
            chars = 0
            for number in range(1, min(total, max_pages) + 1):
                if time.monotonic() > deadline:
                    return Extracted(pages, _partial(number - 1, total, "PDF_MAX_SECONDS"))
                text = _page_text(reader.pages[number - 1])
                if chars + len(text) > max_chars:
                    pages.append((number, text[: max_chars - chars]))
                    return Extracted(pages, _partial(number, total, "FILE_MAX_TEXT_CHARS"))
                pages.append((number, text))
                chars += len(text)
    except UnreadablePdf:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # pypdf raises its own errors and, on hostile structure, plain Python ones.
        log.info("unreadable PDF upload: %s", type(exc).__name__)
        raise UnreadablePdf(_unreadable(exc)) from None
    if total > max_pages:
        return Extracted(pages, _partial(max_pages, total, "PDF_MAX_PAGES"))
    return Extracted(pages)


def _page_text(page: Any) -> str:
    # pypdf's extract_text swallows a stream that passes the inflate limits (and returns
    # nothing): inflating the contents first (cached for extract_text) lets it be seen.
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()
    return str(page.extract_text() or "").replace("\x00", "")


def _partial(read: int, total: int, setting: str) -> str:
    return f"only the text of the first {read} of {total} pages is searchable ({setting})"


def _unreadable(exc: Exception) -> str:
    from pypdf.errors import LimitReachedError  # noqa: PLC0415

    if isinstance(exc, LimitReachedError):
        return (
            "this PDF holds a stream that inflates past what Netra reads "
            f"({PDF_MAX_STREAM_BYTES} bytes)"
        )
    return "this PDF is malformed and its text cannot be read"


_PARAGRAPHS = re.compile(r"\n\s*\n")


def passages(extracted: Extracted, size: int = CHUNK_CHARS) -> list[Passage]:
    """The text in passages of at most `size` characters, cut between paragraphs where
    possible and never across pages (so a citation names its page)."""
    out: list[Passage] = []
    for page, text in extracted.pages:
        current = ""
        for raw in _PARAGRAPHS.split(text):
            paragraph = raw.strip()
            if not paragraph:
                continue
            for piece in _pieces(paragraph, size):
                if current and len(current) + 2 + len(piece) > size:
                    out.append(Passage(current, page))
                    current = ""
                current = f"{current}\n\n{piece}" if current else piece
        if current:
            out.append(Passage(current, page))
    return out


def _pieces(paragraph: str, size: int) -> list[str]:
    """A paragraph longer than `size` cut at whitespace (or hard, for one long word)."""
    pieces: list[str] = []
    while len(paragraph) > size:
        cut = paragraph.rfind(" ", 0, size)
        cut = cut if cut > size // 2 else size
        pieces.append(paragraph[:cut].strip())
        paragraph = paragraph[cut:].strip()
    if paragraph:
        pieces.append(paragraph)
    return pieces
