"""One file read out of a multipart/form-data upload as it streams in.

Starlette's form parser keeps python-multipart's 4 KB cap on a part's header lines, so a
long file name (5,000 characters) fails the whole request; it also spools the whole file
before anyone can look at its size. This reader allows long headers (the name is cut
down by `sniff.safe_name` afterwards), keeps only the one field, and stops at
FILE_MAX_BYTES, naming that limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from netra.chat.errors import BadUpload, FileTooLarge

MAX_HEADER_BYTES = 64 * 1024


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header: bytes = b""
    value: bytes = b""
    wanted: bool = False


@dataclass
class Upload:
    filename: str | None
    data: bytes


async def read_upload(
    content_type: str | None, body: AsyncIterator[bytes], name: str, max_bytes: int
) -> Upload:
    """The field `name`'s file; BadUpload if the body is not multipart or lacks it,
    FileTooLarge past `max_bytes`."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise BadUpload(f"send the file as multipart/form-data in a field named `{name}`")
    part = _Part()
    found: list[Upload] = []
    chunks: list[bytes] = []
    size = 0

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.header.lower()] = part.value
        part.header = part.value = b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part.headers.get(b"content-disposition"))
        part.wanted = disposition.get(b"name") == name.encode() and not found
        if part.wanted:
            raw = disposition.get(b"filename")
            found.append(Upload(raw.decode("utf-8", "replace") if raw else None, b""))

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal size
        if part.wanted:
            size += end - start
            if size > max_bytes:
                raise FileTooLarge("this file", "FILE_MAX_BYTES", max_bytes)
            chunks.append(data[start:end])

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
        max_header_size=MAX_HEADER_BYTES,
    )
    try:
        async for chunk in body:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise BadUpload(f"the multipart body cannot be read ({type(exc).__name__})") from None
    if not found:
        raise BadUpload(f"the multipart body has no field named `{name}`")
    return Upload(found[0].filename, b"".join(chunks))
