"""Full-text search over one user's thread titles, messages and files' passages
(docs/architecture.md decision 11: search lives in the database).

SQLite keeps FTS5 tables (`fts_threads`, `fts_messages`, `fts_file_chunks`) keyed
through `fts_*_rows` tables (a table's own rowid may change on VACUUM, theirs cannot): new
messages and passages are indexed where they are inserted, in bulk (`insert_searchable`),
the rest (threads, edits, deletes) by triggers. PostgreSQL keeps a stored `fts_document`
tsvector on each table under a GIN index. Both are built by the migrations
`chat_0002_search`, `chat_0010_files_in_a_thread` (files' passages) and
`chat_0011_bulk_search_index`. One query language serves both, parsed once
here, as people type it into a web search box: words are all required, `"a phrase"`,
`-word` (or `NOT word`) leaves out, `a OR b`, `AND` may be written out. Nothing a person
types reaches the database as syntax: each term becomes a quoted FTS5 string or a
`phraseto_tsquery` argument. Refusals are chat domain errors (netra.chat.errors).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import JSON, Insert, Table, bindparam, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra.chat.errors import BadCursor, EmptyQuery, QueryTooLong
from netra.db.base import UTCDateTime

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_LIMIT = 50
# Deeper pages cost a ranked scan each and nobody reads them: the last cursor stops here.
MAX_OFFSET = 1000
# Marks around matched words in the database's snippet; turned into offsets, so clients
# get plain text and never have to trust markup (private-use characters, not in prose).
OPEN, CLOSE = "\ue000", "\ue001"

Kind = Literal["thread", "message", "file"]
KINDS: tuple[Kind, ...] = ("thread", "message", "file")


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False


@dataclass(frozen=True)
class Query:
    """Clauses all required; each clause is one term or several joined by OR."""

    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse(raw: str) -> Query:
    """The query as a web search box reads it; refuses what cannot match or is too big."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryTooLong(f"a search is at most {MAX_QUERY_CHARS} characters ({len(raw)} given)")
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    join_next = negate_next = False
    for match in _TOKEN.finditer(raw):
        minus, phrase, word = match.groups()
        if word in ("OR", "AND", "NOT"):
            join_next = word == "OR" and bool(clauses)
            negate_next = word == "NOT"
            continue
        negated = bool(minus) or negate_next or (word is not None and word.startswith("-"))
        negate_next = False
        body = phrase if phrase is not None else (word or "").lstrip("-")
        if not re.search(r"\w", body):
            continue  # punctuation alone (`*`, `-`, `"`) matches nothing in either index
        # Control characters (NUL above all, which PostgreSQL refuses in text) separate words.
        term = Term(" ".join(_CONTROL.sub(" ", body).split()), negated)
        if negated:
            excluded.append(term)
        elif join_next:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    if not clauses:
        raise EmptyQuery(
            "type at least one word to search for (only words left out were given)"
            if excluded
            else "type at least one word to search for"
        )
    if sum(map(len, clauses)) + len(excluded) > MAX_TERMS:
        raise QueryTooLong(f"a search has at most {MAX_TERMS} terms")
    return Query(tuple(tuple(c) for c in clauses), tuple(excluded))


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression: every term a quoted string (its only syntax is `""`)."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    required = " AND ".join(
        quoted(c[0]) if len(c) == 1 else "(" + " OR ".join(map(quoted, c)) + ")"
        for c in query.clauses
    )
    return required + "".join(f" NOT {quoted(t)}" for t in query.excluded)


def tsquery_sql(query: Query, params: dict[str, Any]) -> str:
    """A PostgreSQL tsquery expression built from `phraseto_tsquery` of each term (bound
    parameters, so no input is ever parsed as tsquery syntax)."""

    def term(t: Term) -> str:
        name = f"t{len(params)}"
        params[name] = t.text
        return f"phraseto_tsquery('english', :{name})"

    parts = [
        term(c[0]) if len(c) == 1 else "(" + " || ".join(map(term, c)) + ")" for c in query.clauses
    ]
    parts += [f"!!{term(t)}" for t in query.excluded]
    return " && ".join(parts)


@dataclass(frozen=True)
class Hit:
    kind: Kind
    thread_id: str
    message_id: str | None
    title: str
    snippet: str
    highlights: list[tuple[int, int]]
    role: str | None
    created_at: datetime
    file_id: str | None = None
    chunk_id: str | None = None  # the passage of the file that matched


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    next_cursor: str | None


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"search:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = raw.partition(":")
        offset = int(number) if label == "search" and number.isascii() else -1
    except (ValueError, binascii.Error, UnicodeDecodeError):
        offset = -1
    if not 0 < offset <= MAX_OFFSET:
        raise BadCursor(cursor[:100])
    return offset


def highlighted(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Plain text and the [start, end) offsets of the matched words in it."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in marked:
        if char == OPEN:
            start = length
        elif char == CLOSE:
            if start is not None and start < length:
                spans.append((start, length))
            start = None
        else:
            plain.append(char)
            length += 1
    return "".join(plain), spans


# Ranked first, then snippets for the page's rows only (a snippet costs more than a rank).
_SQLITE = """
WITH hits AS (
  SELECT 'message' AS kind, fts_messages.rowid AS fts_row, bm25(fts_messages) AS score,
         m.thread_id AS thread_id, m.id AS message_id, t.title AS title, m.role AS role,
         m.created_at AS created_at, NULL AS file_id, NULL AS chunk_id
  FROM fts_messages
  JOIN fts_message_rows r ON r.rowid = fts_messages.rowid
  JOIN messages m ON m.id = r.message_id
  JOIN threads t ON t.id = m.thread_id
  WHERE fts_messages MATCH :match AND t.user_id = :user AND :messages
  UNION ALL
  SELECT 'thread', fts_threads.rowid, bm25(fts_threads), t.id, NULL, t.title, NULL,
         t.created_at, NULL, NULL
  FROM fts_threads
  JOIN fts_thread_rows r ON r.rowid = fts_threads.rowid
  JOIN threads t ON t.id = r.thread_id
  WHERE fts_threads MATCH :match AND t.user_id = :user AND :threads
  UNION ALL
  SELECT 'file', fts_file_chunks.rowid, bm25(fts_file_chunks), f.thread_id, NULL, f.name,
         NULL, f.created_at, f.id, c.id
  FROM fts_file_chunks
  JOIN fts_file_chunk_rows r ON r.rowid = fts_file_chunks.rowid
  JOIN file_chunks c ON c.id = r.chunk_id
  JOIN files f ON f.id = c.file_id
  WHERE fts_file_chunks MATCH :match AND f.user_id = :user AND :files {file_scope}
  ORDER BY score, kind DESC, thread_id, message_id, chunk_id
  LIMIT :limit OFFSET :offset
)
SELECT kind, thread_id, message_id, title, role, created_at, file_id, chunk_id,
       CASE kind
         WHEN 'message' THEN (
           SELECT snippet(fts_messages, 0, :open, :close, '…', 24) FROM fts_messages
           WHERE fts_messages MATCH :match AND fts_messages.rowid = hits.fts_row)
         WHEN 'file' THEN (
           SELECT snippet(fts_file_chunks, 0, :open, :close, '…', 24) FROM fts_file_chunks
           WHERE fts_file_chunks MATCH :match AND fts_file_chunks.rowid = hits.fts_row)
         ELSE (
           SELECT snippet(fts_threads, 0, :open, :close, '…', 24) FROM fts_threads
           WHERE fts_threads MATCH :match AND fts_threads.rowid = hits.fts_row)
       END AS snippet
FROM hits
ORDER BY score, kind DESC, thread_id, message_id, chunk_id
"""

_POSTGRES = """
WITH q AS (SELECT {tsquery} AS query),
hits AS (
  SELECT 'message' AS kind, m.thread_id, m.id AS message_id, t.title, m.content AS body,
         m.role, m.created_at, ts_rank(m.fts_document, q.query) AS score,
         NULL AS file_id, NULL AS chunk_id
  FROM messages m JOIN threads t ON t.id = m.thread_id, q
  WHERE t.user_id = :user AND m.fts_document @@ q.query AND :messages
  UNION ALL
  SELECT 'thread', t.id, NULL, t.title, t.title, NULL, t.created_at,
         ts_rank(t.fts_document, q.query), NULL, NULL
  FROM threads t, q
  WHERE t.user_id = :user AND t.fts_document @@ q.query AND :threads
  UNION ALL
  SELECT 'file', f.thread_id, NULL, f.name, c.content, NULL, f.created_at,
         ts_rank(c.fts_document, q.query), f.id, c.id
  FROM file_chunks c JOIN files f ON f.id = c.file_id, q
  WHERE f.user_id = :user AND c.fts_document @@ q.query AND :files {file_scope}
  ORDER BY score DESC, kind DESC, thread_id, message_id, chunk_id
  LIMIT :limit OFFSET :offset
)
SELECT kind, thread_id, message_id, title, file_id, chunk_id,
       ts_headline('english', body, q.query, :headline) AS snippet, role, created_at
FROM hits, q
ORDER BY score DESC, kind DESC, thread_id, message_id, chunk_id
"""
_HEADLINE = f"StartSel={OPEN}, StopSel={CLOSE}, MaxWords=35, MinWords=15, MaxFragments=1"


class SearchIndex:
    """Ranked, paginated search of one user's data; reads only rows that user owns."""

    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db

    async def search(
        self,
        user_id: str,
        raw_query: str,
        *,
        limit: int = 20,
        cursor: str | None = None,
        kinds: tuple[Kind, ...] = KINDS,
        thread_id: str | None = None,
    ) -> Page:
        """`thread_id`: only the files of that thread (threads and messages unscoped)."""
        query = parse(raw_query)
        offset = decode_cursor(cursor) if cursor else 0
        limit = max(1, min(limit, MAX_LIMIT))
        params: dict[str, Any] = {
            "user": user_id,
            "limit": limit + 1,
            "offset": offset,
            "messages": "message" in kinds,
            "threads": "thread" in kinds,
            "files": "file" in kinds,
        }
        file_scope = ""
        if thread_id is not None:
            params["scope"] = thread_id
            file_scope = "AND f.thread_id = :scope"
        async with self.db() as session:
            if session.get_bind().dialect.name == "postgresql":
                sql = _POSTGRES.format(tsquery=tsquery_sql(query, params), file_scope=file_scope)
                params["headline"] = _HEADLINE
            else:
                sql = _SQLITE.format(file_scope=file_scope)
                params.update(match=fts5_match(query), open=OPEN, close=CLOSE)
            statement = text(sql).columns(created_at=UTCDateTime())
            rows = (await session.execute(statement, params)).all()
        more = len(rows) > limit and offset + limit < MAX_OFFSET
        return Page(
            [self._hit(row) for row in rows[:limit]],
            encode_cursor(offset + limit) if more else None,
        )

    def _hit(self, row: Any) -> Hit:
        snippet, spans = highlighted(row.snippet or "")
        return Hit(
            row.kind,
            row.thread_id,
            row.message_id,
            row.title,
            snippet,
            spans,
            row.role,
            row.created_at,
            row.file_id,
            row.chunk_id,
        )


# Indexing new rows on SQLite, per table: their keys into the stable rows table, then
# their texts into the FTS5 table under the rowids those keys got, read from the rows just
# inserted. The ids go as one JSON list (`:ids`): one statement and one step each, not
# one per row. Plain SQL, so that bench/db_rates.py writes the same rows through the bare
# driver.
FTS5_INSERTS = {
    "messages": (
        "INSERT INTO fts_message_rows (message_id) SELECT value FROM json_each(:ids)",
        "INSERT INTO fts_messages (rowid, content) SELECT r.rowid, m.content"
        " FROM json_each(:ids) AS j JOIN fts_message_rows r ON r.message_id = j.value"
        " JOIN messages m ON m.id = j.value",
    ),
    "file_chunks": (
        "INSERT INTO fts_file_chunk_rows (chunk_id) SELECT value FROM json_each(:ids)",
        "INSERT INTO fts_file_chunks (rowid, content) SELECT r.rowid, c.content"
        " FROM json_each(:ids) AS j JOIN fts_file_chunk_rows r ON r.chunk_id = j.value"
        " JOIN file_chunks c ON c.id = j.value",
    ),
}
# Built once (building a statement costs more than executing it: netra.chat.models). The
# ids are bound as JSON, as netra.db.lists binds its lists on SQLite: a Python list in,
# the engine's JSON text out.
_IDS = bindparam("ids", type_=JSON())
_FTS5 = {
    name: (text(keys).bindparams(_IDS), text(contents).bindparams(_IDS))
    for name, (keys, contents) in FTS5_INSERTS.items()
}


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


async def insert_searchable(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert new `rows` of a searchable table (`messages`, `file_chunks`: each row with
    its `id` and `content`), found by search once the transaction commits: the one way in
    for such rows (tests/chat/test_search_index.py holds src and bench to it). PostgreSQL
    indexes them itself (a stored tsvector); on SQLite their FTS5 rows are written here,
    one statement of each kind for all of them, not by a trigger per row. FTS5 writes its
    pending terms out as a new segment at every statement savepoint, and each statement
    a trigger runs opens one: every row became a segment, merged again and again (500
    messages 22 ms to insert that way, 5 ms this way; chat_0011_bulk_search_index)."""
    if not rows:
        return
    await session.execute(_insert(table), rows)
    if session.get_bind().dialect.name == "sqlite":
        keys, contents = _FTS5[table.name]
        ids = {"ids": [row["id"] for row in rows]}
        await session.execute(keys, ids)
        await session.execute(contents, ids)
