"""New messages and files' passages are searchable once they commit: written with their
index by `netra.chat.search.insert_searchable`, the one way such rows go in (posted
messages and their answers in the event writer's groups, imported transcripts, uploaded
files' passages: tests/chat/test_files.py). On SQLite that is two statements for a whole
group of rows, not a trigger per row (chat_0011_bulk_search_index)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import text

from netra import db
from netra.chat.schema import CHAT_SCHEMA
from netra.chat.search import SearchIndex
from netra.db import migrations
from netra.db.base import new_id, utcnow
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, new_thread, wait_run

ROOT = Path(__file__).resolve().parents[2]
# A searchable table's rows written some other way would be missing from search.
DIRECT_INSERT = re.compile(
    r"insert\((messages_table|file_chunks_table|Message|FileChunk)\)"
    r"|INSERT INTO (messages|file_chunks)\b",
    re.IGNORECASE,
)
ALLOWED = {
    "src/netra/chat/search.py",  # insert_searchable itself
    "bench/db_rates.py",  # the bare driver's rate, with the same full-text rows
    "bench/search.py",  # also fills the schema without the index, for the index's cost
}


def test_searchable_rows_go_in_only_through_insert_searchable() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("src", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and str(path.relative_to(ROOT)) not in ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if DIRECT_INSERT.search(line)
    ]
    assert not offenders, f"insert these through netra.chat.search.insert_searchable: {offenders}"


async def found(srv: Server, q: str) -> set[tuple[str, str]]:
    async with srv.http("alice") as alice:
        response = await alice.get("/api/search", params={"q": q, "kinds": "message"})
    assert response.status_code == 200, response.text
    return {(hit["thread_id"], hit["message_id"]) for hit in response.json()["results"]}


async def test_posted_answered_and_imported_messages_are_found(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http("alice") as alice:
        url = f"/api/threads/{thread}/messages"
        posted = (await alice.post(url, json={"text": "Is a zeppelin faster?"})).json()
        await wait_run(server, "alice", posted["run_id"])
        items = (await alice.get(url)).json()["items"]
        doc = (await alice.get(f"/api/threads/{thread}/export")).json()
        imported = await alice.post("/api/threads/import", json=doc)
        assert imported.status_code == 201, imported.text
        copy = imported.json()["id"]
        copied = (await alice.get(f"/api/threads/{copy}/messages")).json()["items"]
    question, answer = items
    assert question["id"] == posted["message"]["id"]
    assert answer["role"] == "assistant"
    questions = {(thread, question["id"]), (copy, copied[0]["id"])}
    answers = {(thread, answer["id"]), (copy, copied[1]["id"])}
    assert questions <= await found(server, "zeppelin") <= questions | answers
    # A word of the answer finds it (and its imported copy), as one of the question does.
    word = max(re.findall(r"[A-Za-z]{4,}", answer["content"]), key=len)
    assert answers <= await found(server, word)


async def _triggers(sessions: Any) -> set[str]:
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'fts_%'")
        )
        return {str(name) for (name,) in rows}


async def test_sqlite_indexes_new_rows_without_insert_triggers_and_back(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    engine = db.create_engine(make_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}"))
    sessions = db.sessionmaker(engine)
    await migrations.upgrade(engine, [CHAT_SCHEMA])
    kept = {
        "fts_messages_update",
        "fts_messages_delete",
        "fts_file_chunks_delete",
        "fts_threads_insert",
        "fts_threads_update",
        "fts_threads_delete",
    }
    assert await _triggers(sessions) == kept
    # Back to chat_0010: its insert triggers index a message written straight to the table.
    await migrations.downgrade(engine, CHAT_SCHEMA, "chat_0010")
    assert await _triggers(sessions) == kept | {"fts_messages_insert", "fts_file_chunks_insert"}
    thread_id, now = new_id(), utcnow()
    async with sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO threads (id, user_id, title, last_seq, created_at, updated_at)"
                " VALUES (:id, 'u1', 'Airships', 0, :now, :now)"
            ),
            {"id": thread_id, "now": now},
        )
        await session.execute(
            text(
                "INSERT INTO messages (id, thread_id, role, content, created_at)"
                " VALUES ('m1', :thread, 'user', 'a zeppelin over Lisbon', :now)"
            ),
            {"thread": thread_id, "now": now},
        )
    hits = (await SearchIndex(sessions).search("u1", "zeppelin")).hits
    assert [h.message_id for h in hits] == ["m1"]
    # And forth again: what was indexed stays found.
    await migrations.upgrade(engine, [CHAT_SCHEMA])
    assert await _triggers(sessions) == kept
    hits = (await SearchIndex(sessions).search("u1", "lisbon zeppelin")).hits
    assert [h.message_id for h in hits] == ["m1"]
    await engine.dispose()
