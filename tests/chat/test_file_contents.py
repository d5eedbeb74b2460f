"""What an upload is and how it reads, without a server: types from the bytes, display
names without path parts, text files and PDFs cut into passages that never cross a page."""

from __future__ import annotations

import codecs

import pytest

from netra.chat.errors import UnreadablePdf, UnsupportedFile
from netra.chat.files.extract import Extracted, passages, pdf_text, plain_text
from netra.chat.files.sniff import MAX_NAME_CHARS, safe_name, sniff
from netra.testing.pdfs import bomb_pdf, many_pages_pdf, text_pdf


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("bad\x00name\r\n.txt", "badname.txt"),
        (".hidden", "hidden"),
    ],
)
def test_names_lose_path_parts_and_control_characters(raw: str | None, shown: str) -> None:
    assert safe_name(raw) == shown


def test_a_5000_character_name_is_cut_keeping_its_extension() -> None:
    name = safe_name("é" * 5000 + ".csv")
    assert len(name) == MAX_NAME_CHARS
    assert name.endswith(".csv")


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"hello", "a.txt", "text/plain"),
        (b"# Title", "a.md", "text/markdown"),
        (b"a,b\n1,2\n", "data.csv", "text/csv"),
        (b'{"k": 1}', "x.bin", "application/json"),
        (b"def f():\n    return 1\n", "code.py", "text/plain"),
        (codecs.BOM_UTF16_LE + "häll".encode("utf-16-le"), "u.txt", "text/plain"),
        (b"%PDF-1.7 ...", "a.txt", "application/pdf"),
        (b"\xff\xd8\xff\xe0 jpeg", "a.txt", "image/jpeg"),
        (b"GIF89a....", "a.txt", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.txt", "image/webp"),
    ],
)
def test_type_comes_from_the_bytes(data: bytes, name: str, content_type: str) -> None:
    assert sniff(data, name).content_type == content_type


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02binary", b"\xff\xfe\xfa not utf", b"PK\x03\x04zip", b"MZ\x90\x00"]
)
def test_binary_is_refused_whatever_its_name(data: bytes) -> None:
    with pytest.raises(UnsupportedFile):
        sniff(data, "notes.txt")


def test_passages_stay_under_their_size_and_within_their_page() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(20))
    extracted = Extracted([(1, text), (2, "Second page.")])
    cut = passages(extracted, size=500)
    assert all(len(p.text) <= 500 for p in cut)
    assert cut[-1].page == 2
    assert cut[-1].text == "Second page."
    assert {p.page for p in cut[:-1]} == {1}
    one_word = passages(Extracted([(None, "x" * 1300)]), size=500)
    assert [len(p.text) for p in one_word] == [500, 500, 300]


def test_text_past_its_cap_is_flagged() -> None:
    assert plain_text("short", 1000).note is None
    capped = plain_text("a" * 2000, 1000)
    assert capped.chars == 1000
    assert "FILE_MAX_TEXT_CHARS" in (capped.note or "")


async def test_pdf_text_page_by_page_and_its_caps() -> None:
    read = await pdf_text(text_pdf(["one", "two"]), max_pages=10, max_seconds=5, max_chars=10**6)
    assert read.pages == [(1, "one"), (2, "two")]
    assert read.note is None
    pages = await pdf_text(many_pages_pdf(10_000), max_pages=3, max_seconds=5, max_chars=10**6)
    assert len(pages.pages) == 3
    assert pages.note == "only the text of the first 3 of 10000 pages is searchable (PDF_MAX_PAGES)"
    chars = await pdf_text(text_pdf(["abcdef", "ghi"]), max_pages=9, max_seconds=5, max_chars=4)
    assert chars.pages == [(1, "abcd")]
    assert "FILE_MAX_TEXT_CHARS" in (chars.note or "")


async def test_a_zip_bomb_stops_at_the_inflate_cap() -> None:
    with pytest.raises(UnreadablePdf, match="inflates past"):
        await pdf_text(bomb_pdf(40_000_000), max_pages=9, max_seconds=5, max_chars=10**6)
