"""Files in a thread: how big, how many, how much of a PDF is read.

Part of the one contract (netra.settings.contract)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from netra.settings.contract.types import Seconds
from netra.settings.spec import BACKEND, Spec

MB = 1024 * 1024


class FileSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file_max_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(BACKEND, "Largest file one upload may hold, in bytes (413 file_too_large)."),
    ] = 10 * MB
    file_image_max_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(
            BACKEND,
            "Largest image one upload may hold, in bytes (413 file_too_large): images go "
            "whole to vision models, which refuse big ones.",
        ),
    ] = 5 * MB
    thread_files_max_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(BACKEND, "Bytes of files one thread may hold (413 thread_files_full)."),
    ] = 50 * MB
    user_files_max_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(BACKEND, "Bytes of files one user may hold in all (413 user_files_full)."),
    ] = 500 * MB
    upload_max_body_bytes: Annotated[
        int,
        Field(ge=1024),
        Spec(
            BACKEND,
            "Largest request body of a file upload (POST /api/threads/{id}/files), in bytes; "
            "every other route keeps MAX_BODY_BYTES. Leave room above FILE_MAX_BYTES for "
            "the multipart framing.",
        ),
    ] = 11 * MB
    pdf_max_pages: Annotated[
        int,
        Field(ge=1, le=100_000),
        Spec(
            BACKEND,
            "Pages of a PDF whose text is read; the rest is left out and the file says so.",
        ),
    ] = 500
    pdf_max_seconds: Annotated[
        Seconds,
        Field(gt=0),
        Spec(
            BACKEND,
            "Time spent reading one PDF's text; past it the rest is left out and the file says so.",
        ),
    ] = 20.0
    file_max_text_chars: Annotated[
        int,
        Field(ge=1000),
        Spec(BACKEND, "Characters of one file's text that are indexed; the rest is left out."),
    ] = 2_000_000
    file_context_chars: Annotated[
        int,
        Field(ge=0),
        Spec(
            BACKEND,
            "A file attached to a message whose text is at most this long goes whole into "
            "the model's context; a longer one is reached through search_documents.",
        ),
    ] = 8000
