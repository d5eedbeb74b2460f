"""Files in a thread: upload (multipart), list, download (owner only) and delete."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from netra.chat.files.multipart import read_upload
from netra.chat.routes.deps import Backend, Reader, Writer

# The upload route alone takes bodies up to UPLOAD_MAX_BODY_BYTES (netra.body_limit).
router = APIRouter(tags=["files"])


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str = Field(description="For display: no path parts, at most 255 characters.")
    size: int
    content_type: str = Field(description="Sniffed from the bytes, never the client's claim.")
    thread_id: str
    created_at: datetime
    text_chars: int = Field(description="Characters of text indexed for search.")
    text_note: str | None = Field(description="Why the searchable text is partial, if it is.")


# Read by netra.chat.files.multipart, not FastAPI's form parser: described here.
MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/api/threads/{thread_id}/files",
    response_model=FileOut,
    status_code=201,
    openapi_extra=MULTIPART,
)
async def upload_file(backend: Backend, user: Writer, thread_id: str, request: Request) -> FileOut:
    """Keep a file (multipart field `file`) in the thread and index its text; its type is
    read from its bytes, its name is for display only."""
    await backend.own_thread(user.subject, thread_id)
    upload = await read_upload(
        request.headers.get("content-type"),
        request.stream(),
        "file",
        backend.settings.file_max_bytes,
    )
    row = await backend.files.upload(user.subject, thread_id, upload.filename, upload.data)
    return FileOut.model_validate(row)


@router.get("/api/threads/{thread_id}/files", response_model=list[FileOut])
async def list_files(backend: Backend, user: Reader, thread_id: str) -> list[FileOut]:
    await backend.own_thread(user.subject, thread_id)
    return [FileOut.model_validate(row) for row in await backend.files.in_thread(thread_id)]


@router.get("/api/files/{file_id}", response_class=Response)
async def download_file(backend: Backend, user: Reader, file_id: str) -> Response:
    """The file's bytes, to its owner only, always as a download (never rendered)."""
    row, data = await backend.files.read(user.subject, file_id)
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": attachment(row.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.delete("/api/files/{file_id}", status_code=204)
async def delete_file(backend: Backend, user: Writer, file_id: str) -> Response:
    await backend.files.delete(user.subject, file_id)
    return Response(status_code=204)


def attachment(name: str) -> str:
    """`Content-Disposition` for a download: an ASCII fallback without quotes or
    separators, and the real name percent-encoded (RFC 6266)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;%' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
