"""Full-text search (`GET /api/search`, the builtin search tool): ranked, highlighted,
paginated, the caller's data only, on SQLite (FTS5) and PostgreSQL (tsvector).

Hostile queries, each must answer 200 or a 4xx naming why, never a 500 and never another
user's rows: FTS syntax (`"`, `*`, `NEAR`, `-`, `^`, `:`, parentheses, `AND`/`NOT`
written out), unbalanced quotes, only exclusions, empty, whitespace, 10 KB, 33 terms,
a forged or oversized cursor, a limit of 0 or 51.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert

from netra import db
from netra.chat.errors import ChatError
from netra.chat.models import messages_table
from netra.chat.schema import CHAT_SCHEMA
from netra.chat.search import (
    MAX_QUERY_CHARS,
    SearchIndex,
    encode_cursor,
    fts5_match,
    highlighted,
    insert_searchable,
    parse,
)
from netra.chat.userdata import ChatUserData
from netra.db import migrations
from netra.db.base import new_id, utcnow
from tests.support.apps import SettingsFactory
from tests.support.chat import Server

HOSTILE = [
    '"',
    '"""',
    "*",
    "dentist*",
    "NEAR(dentist appointment)",
    "dentist NEAR appointment",
    "-",
    "- -",
    "dentist -",
    "^dentist",
    "content:dentist",
    "(dentist",
    "dentist)",
    "dentist AND appointment",
    "dentist NOT appointment",
    "dentist OR",
    "OR dentist",
    '"unbalanced dentist',
    "dentist' OR '1'='1",
    "dentist; DROP TABLE messages; --",
    "\\x00dentist",
    "dentist \u0000",
    '"den\u0000tist"',
    "den\u0000tist",
    "dentist !!( & | :*",
]


# ---- the query language, no database ----


def test_words_are_all_required_phrases_quoted_exclusions_and_or() -> None:
    query = parse('dentist "next week" -cancelled lunch OR dinner AND NOT "day off"')
    assert fts5_match(query) == (
        '"dentist" AND "next week" AND ("lunch" OR "dinner") NOT "cancelled" NOT "day off"'
    )


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_text_becomes_quoted_terms_only(raw: str) -> None:
    if not any(char.isalnum() for char in raw.replace("NEAR", "").replace("OR", "")):
        with pytest.raises(ChatError, match="at least one word"):
            parse(raw)
        return
    match = fts5_match(parse(raw))
    # Outside quoted strings only the operators this module writes may appear.
    outside = "".join(match.split('"')[0::2])
    assert set(outside.replace("AND", "").replace("NOT", "").replace("OR", "")) <= set(" ()")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty_query"),
        ("   ", "empty_query"),
        ("-dentist", "empty_query"),
        ('"" * -', "empty_query"),
        ("x" * (MAX_QUERY_CHARS + 1), "query_too_long"),
        ("word " * 33, "query_too_long"),
    ],
)
def test_queries_that_cannot_run_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ChatError) as refused:
        parse(raw)
    assert refused.value.reason == reason


def test_highlights_are_offsets_into_plain_text() -> None:
    text, spans = highlighted("see the \ue000dentist\ue001 on \ue000Monday\ue001…")
    assert text == "see the dentist on Monday…"
    assert [text[a:b] for a, b in spans] == ["dentist", "Monday"]


# ---- against the real indexes ----


async def seed(srv: Server, user: str, title: str, *texts: str) -> tuple[str, list[str]]:
    """A thread of `user`'s with messages `texts` (alternately user and assistant),
    written as every new message is, with its search index (insert_searchable)."""
    async with srv.http(user) as client:
        created = await client.post("/api/threads", json={"title": title})
        assert created.status_code == 201, created.text
        thread_id = str(created.json()["id"])
    ids = [new_id() for _ in texts]
    start = utcnow()
    rows = [
        {
            "id": message_id,
            "thread_id": thread_id,
            "role": "user" if n % 2 == 0 else "assistant",
            "content": body,
            "created_at": start + timedelta(milliseconds=n),
        }
        for n, (message_id, body) in enumerate(zip(ids, texts, strict=True))
    ]
    if rows:
        async with srv.backend.runtime.db.begin() as session:
            await insert_searchable(session, messages_table, rows)
    return thread_id, ids


async def search(srv: Server, user: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with srv.http(user) as client:
        response = await client.get("/api/search", params=params)
    return response.status_code, response.json()


async def test_messages_answers_and_titles_are_found_ranked_and_highlighted(
    server: Server,
) -> None:
    trip, (ask, answer) = await seed(
        server,
        "alice",
        "Trip to Lisbon",
        "Book the dentist appointment before running to the airport",
        "The dentist can see you Monday; I booked it.",
    )
    await seed(server, "alice", "Groceries", "milk, eggs and bread")
    status, page = await search(server, "alice", q="dentist")
    assert status == 200
    found = {(r["kind"], r["message_id"]) for r in page["results"]}
    assert found == {("message", ask), ("message", answer)}
    assert page["next_cursor"] is None
    for result in page["results"]:
        assert result["thread_id"] == trip
        assert result["title"] == "Trip to Lisbon"
        words = [result["snippet"][a:b].lower() for a, b in result["highlights"]]
        assert words == ["dentist"]
    roles = {r["message_id"]: r["role"] for r in page["results"]}
    assert roles == {ask: "user", answer: "assistant"}

    # Stemming: "run" finds "running"; diacritics folded on both databases.
    status, page = await search(server, "alice", q="run airport")
    assert [r["message_id"] for r in page["results"]] == [ask]
    status, page = await search(server, "alice", q="lisbon")
    assert [(r["kind"], r["thread_id"]) for r in page["results"]] == [("thread", trip)]
    assert page["results"][0]["message_id"] is None


async def test_phrases_exclusions_and_or(server: Server) -> None:
    _, (a, b, c) = await seed(
        server,
        "alice",
        "Notes",
        "the red car is fast",
        "a fast red bicycle",
        "the blue car",
    )
    assert await ids(server, q='"red car"') == {a}
    assert await ids(server, q="car -blue") == {a}
    assert await ids(server, q="bicycle OR blue") == {b, c}
    assert await ids(server, q="red fast") == {a, b}


async def ids(srv: Server, **params: Any) -> set[str]:
    status, page = await search(srv, "alice", **params)
    assert status == 200, page
    return {r["message_id"] for r in page["results"] if r["kind"] == "message"}


async def test_another_users_data_is_never_found(server: Server) -> None:
    await seed(server, "bob", "Bob's secret dentist plan", "bob sees the dentist secretly")
    await seed(server, "alice", "Mine", "nothing here")
    for raw in ["dentist", "secret", "bob", *HOSTILE]:
        status, page = await search(server, "alice", q=raw)
        assert status in (200, 422), (raw, status, page)
        if status == 200:
            assert page["results"] == [], raw
        else:
            assert "at least one word" in page["detail"]["message"], raw
    status, page = await search(server, "bob", q="dentist")
    assert len(page["results"]) == 2  # the title and the message


async def test_hostile_queries_never_fail(server: Server) -> None:
    _, (message,) = await seed(server, "alice", "Plans", "dentist appointment on Monday")
    finds = {"dentist*", "dentist -", "^dentist", "(dentist", "dentist)", "dentist OR"}
    finds |= {"OR dentist", "dentist \u0000", "dentist AND appointment", "dentist !!( & | :*"}
    misses = {"dentist NOT appointment", "NEAR(dentist appointment)"}
    for raw in HOSTILE:
        status, page = await search(server, "alice", q=raw)
        assert status in (200, 422), (raw, status, page)
        if raw in finds:
            assert status == 200, raw
            assert message in {r["message_id"] for r in page["results"]}, raw
        if raw in misses:
            assert page["results"] == [], raw


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"q": ""}, 422, "type at least one word to search for"),
        ({}, 422, "type at least one word to search for"),
        ({"q": "-dentist"}, 422, "only words left out were given"),
        ({"q": "x" * 10_000}, 422, "at most 500 characters (10000 given)"),
        ({"q": "dentist", "cursor": "bm90IG91cnM"}, 400, "is not one this server issued"),
        ({"q": "dentist", "cursor": encode_cursor(5000)}, 400, "is not one this server issued"),
        ({"q": "dentist", "cursor": "%%%"}, 400, "is not one this server issued"),
    ],
)
async def test_refusals_say_why(
    server: Server, params: dict[str, Any], status: int, says: str
) -> None:
    answered, body = await search(server, "alice", **params)
    assert answered == status
    assert says in body["detail"]["message"]


@pytest.mark.parametrize("limit", [0, 51, -1])
async def test_limit_out_of_range_is_422(server: Server, limit: int) -> None:
    status, _ = await search(server, "alice", q="dentist", limit=limit)
    assert status == 422


async def test_pages_cover_every_hit_once(server: Server) -> None:
    _, created = await seed(server, "alice", "Many", *[f"dentist visit {n}" for n in range(23)])
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"q": "dentist", "limit": 10}
        if cursor:
            params["cursor"] = cursor
        status, page = await search(server, "alice", **params)
        assert status == 200
        seen += [r["message_id"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)


async def test_renamed_and_deleted_threads_follow_the_index(server: Server) -> None:
    thread, _ = await seed(server, "alice", "Holiday", "pack the sunscreen")
    async with server.http("alice") as client:
        await client.patch(f"/api/threads/{thread}", json={"title": "Vacation in Crete"})
        assert await kinds(server, "holiday") == []
        assert await kinds(server, "crete") == ["thread"]
        assert (await client.delete(f"/api/threads/{thread}")).status_code == 204
    assert await kinds(server, "sunscreen") == []
    assert await kinds(server, "crete") == []


async def kinds(srv: Server, q: str) -> list[str]:
    _, page = await search(srv, "alice", q=q)
    return [r["kind"] for r in page["results"]]


async def test_the_builtin_tool_searches_the_same_index(server: Server) -> None:
    thread, (message,) = await seed(server, "alice", "Plans", "call the plumber at noon")
    await seed(server, "bob", "Bob", "plumber for bob")
    alice = await server.users.id("alice")
    data = ChatUserData(server.backend.runtime.db, alice, thread)
    hits = await data.search_messages("plumbers", 5)
    assert [(h.message_id, h.thread_title, h.role) for h in hits] == [(message, "Plans", "user")]
    assert "plumber" in hits[0].content


async def test_existing_messages_are_indexed_by_the_migration(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    engine = db.create_engine(make_settings(**database_env))
    async with engine.connect() as connection:
        await connection.run_sync(
            lambda sync: command.upgrade(CHAT_SCHEMA.config(sync), "chat_0001")
        )
        await connection.commit()
    sessions = db.sessionmaker(engine)
    thread_id = new_id()
    async with sessions.begin() as session:
        await session.execute(
            insert(messages_table.metadata.tables["threads"]),
            [
                {
                    "id": thread_id,
                    "user_id": "u1",
                    "title": "Old thread",
                    "last_seq": 0,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
            ],
        )
        await session.execute(
            insert(messages_table),
            [
                {
                    "id": "m1",
                    "thread_id": thread_id,
                    "role": "user",
                    "content": "written before search existed",
                    "created_at": utcnow(),
                }
            ],
        )
    await migrations.upgrade(engine, [CHAT_SCHEMA])
    page = await SearchIndex(sessions).search("u1", "written search")
    assert [(h.kind, h.message_id) for h in page.hits] == [("message", "m1")]
    page = await SearchIndex(sessions).search("u1", "old")
    assert [h.kind for h in page.hits] == ["thread"]
    assert (await SearchIndex(sessions).search("u2", "written")).hits == []
    await engine.dispose()
