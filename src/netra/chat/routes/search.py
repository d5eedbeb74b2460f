"""/api/search: ranked full-text search over the caller's threads, messages and files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from netra.chat.routes.deps import Backend, Reader
from netra.chat.search import MAX_LIMIT, MAX_QUERY_CHARS, Hit

router = APIRouter(prefix="/api/search", tags=["search"])


class SearchResult(BaseModel):
    kind: Literal["thread", "message", "file"]
    thread_id: str
    message_id: str | None = None
    file_id: str | None = None
    title: str = Field(description="The thread's title; for a file, the file's name.")
    snippet: str = Field(description="Plain text around the best match.")
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets of the matched words in `snippet`."
    )
    role: str | None = Field(None, description="For a message: `user` or `assistant`.")
    created_at: datetime

    @classmethod
    def of(cls, hit: Hit) -> SearchResult:
        return cls(
            kind=hit.kind,
            thread_id=hit.thread_id,
            message_id=hit.message_id,
            file_id=hit.file_id,
            title=hit.title,
            snippet=hit.snippet,
            highlights=hit.highlights,
            role=hit.role,
            created_at=hit.created_at,
        )


class SearchPage(BaseModel):
    results: list[SearchResult]
    next_cursor: str | None


# A query of 10 KB is refused in words by the domain, not by a 422 from the validator.
QUERY_DOC = (
    f'Words (all required), "a phrase", -word or NOT word to leave out, a OR b; '
    f"at most {MAX_QUERY_CHARS} characters."
)


@router.get("", response_model=SearchPage)
async def search(
    backend: Backend,
    user: Reader,
    q: Annotated[str, Query(description=QUERY_DOC)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SearchPage:
    page = await backend.search.search(user.subject, q, limit=limit, cursor=cursor)
    return SearchPage(
        results=[SearchResult.of(hit) for hit in page.hits], next_cursor=page.next_cursor
    )
