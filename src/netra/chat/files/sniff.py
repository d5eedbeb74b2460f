"""What an upload is, from its bytes, and the name it is shown under.

The client's Content-Type and file name are never trusted: the type comes from the
content (magic numbers, then a strict text decode), and the name is for display only,
stripped of path parts and control characters and length-capped.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from dataclasses import dataclass

from netra.chat.errors import UnsupportedFile

MAX_NAME_CHARS = 255
PDF = "application/pdf"
IMAGES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
# Among bytes already proven to be text, the name's extension may pick the text subtype
# (display and download only; it can never make binary pass as text). Nothing that a
# browser would render as active content (HTML, SVG) is ever named as such.
TEXT_SUBTYPES = {"md": "text/markdown", "markdown": "text/markdown", "csv": "text/csv"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    text: str | None = None  # the decoded text of a text file

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def sniff(data: bytes, name: str) -> Sniffed:
    """The type the bytes are; UnsupportedFile for anything else."""
    if data.startswith(b"%PDF-"):
        return Sniffed(PDF)
    for magic, content_type in IMAGES.items():
        if data.startswith(magic):
            return Sniffed(content_type)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image/webp")
    text = decode_text(data)
    if text is None:
        raise UnsupportedFile(
            "this file is not text (UTF-8 or UTF-16), PDF, PNG, JPEG, GIF or WebP; "
            "its bytes decide, not its name or declared type"
        )
    return Sniffed(_text_type(text, name), text)


def decode_text(data: bytes) -> str | None:
    """Strict UTF-8 (or UTF-16 with its BOM) without NULs or other binary control bytes;
    None for anything else."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    binary = sum(1 for ch in text[:65536] if ch < " " and ch not in "\t\n\r\f")
    return None if binary else text


def _text_type(text: str, name: str) -> str:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            return "application/json"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return TEXT_SUBTYPES.get(extension, "text/plain")


def safe_name(raw: str | None) -> str:
    """The display name: the last path part (either slash), no control characters, no
    leading dots, at most MAX_NAME_CHARS (the extension kept); `file` when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _CONTROL.sub("", name).strip().lstrip(".").strip()
    if len(name) > MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME_CHARS - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_CHARS]
    return name or "file"
