"""PDFs made with pypdf itself for tests and benches of uploads: text on pages, a
password, broken bytes, a stream that inflates past any sane size, thousands of pages."""

from __future__ import annotations

import io
import zlib

from pypdf import PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)


def _escaped(text: str) -> bytes:
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _with_font(writer: PdfWriter) -> DictionaryObject:
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    return DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})


def text_pdf(pages: list[str], *, password: str | None = None) -> bytes:
    """One page per string, each line of it a line of Helvetica text."""
    writer = PdfWriter()
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = _with_font(writer)
        lines = b" T* ".join(b"(" + _escaped(line) + b") Tj" for line in text.splitlines())
        stream = DecodedStreamObject()
        stream.set_data(b"BT /F1 11 Tf 14 TL 72 740 Td " + lines + b" ET")
        page[NameObject("/Contents")] = writer._add_object(stream)
    if password is not None:
        writer.encrypt(password)
    return _write(writer)


def many_pages_pdf(pages: int) -> bytes:
    """`pages` blank pages, written by hand: one page object that the page tree names
    `pages` times (pypdf's writer takes seconds for 10,000 pages; this takes none)."""
    kids = b" ".join([b"3 0 R"] * pages)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def bomb_pdf(inflated_bytes: int) -> bytes:
    """One page whose content stream is a few KB deflated and `inflated_bytes` inflated."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = StreamObject()
    deflated = zlib.compress(b" " * inflated_bytes, 9)
    stream._data = deflated
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Length")] = NumberObject(len(deflated))
    page[NameObject("/Contents")] = writer._add_object(stream)
    return _write(writer)


MALFORMED_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nendobj\ntrailer <<>>\n%%EOF"
