"""Threads written before messages formed a tree become one branch each (chat_0008), on
SQLite and PostgreSQL, and stay searchable; a branched thread exports and imports whole
(its Markdown: the branch shown), and an import whose parents make a cycle is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic import command
from sqlalchemy import text

from netra import db
from netra.chat.eventlog import EventLog
from netra.chat.schema import CHAT_SCHEMA
from netra.chat.search import SearchIndex
from netra.chat.store import ThreadStore
from netra.db import migrations
from netra.db.base import utcnow
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, new_thread, wait_run


async def test_existing_threads_become_one_branch(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    engine = db.create_engine(make_settings(**database_env))
    async with engine.connect() as connection:
        await connection.run_sync(
            lambda sync: command.upgrade(CHAT_SCHEMA.config(sync), "chat_0007")
        )
        await connection.commit()
    now = utcnow()
    sessions = db.sessionmaker(engine)
    async with sessions.begin() as session:
        for thread in ("t1", "t2", "t3"):
            await session.execute(
                text(
                    "INSERT INTO threads (id, user_id, title, last_seq, created_at, updated_at)"
                    " VALUES (:id, 'u1', 'Old thread', 0, :now, :now)"
                ),
                {"id": thread, "now": now},
            )
        # Inserted out of order: the chain follows created_at, then id.
        for id, thread, role, seconds in [
            ("m3", "t1", "user", 2),
            ("m1", "t1", "user", 0),
            ("m2", "t1", "assistant", 1),
            ("m2b", "t1", "assistant", 1),
            ("n1", "t2", "user", 0),
        ]:
            await session.execute(
                text(
                    "INSERT INTO messages (id, thread_id, role, content, created_at)"
                    " VALUES (:id, :thread, :role, :content, :at)"
                ),
                {
                    "id": id,
                    "thread": thread,
                    "role": role,
                    "content": f"written before branches {id}",
                    "at": now + timedelta(seconds=seconds),
                },
            )
    await migrations.upgrade(engine, [CHAT_SCHEMA])
    async with sessions() as session:
        parents = dict((await session.execute(text("SELECT id, parent_id FROM messages"))).all())
        leaves = dict((await session.execute(text("SELECT id, active_leaf_id FROM threads"))).all())
    assert parents == {"m1": None, "m2": "m1", "m2b": "m2", "m3": "m2b", "n1": None}
    assert leaves == {"t1": "m3", "t2": "n1", "t3": None}
    store = ThreadStore(sessions, EventLog(sessions))
    page = await store.messages("t1", 50, None)
    assert [m.id for m in page.items] == ["m1", "m2", "m2b", "m3"]
    assert (await store.messages("t3", 50, None)).items == []
    hits = (await SearchIndex(sessions).search("u1", "branches m3")).hits
    assert [h.message_id for h in hits] == ["m3"]
    # And back, and forth again.
    await migrations.downgrade(engine, CHAT_SCHEMA, "chat_0007")
    await migrations.upgrade(engine, [CHAT_SCHEMA])
    assert [h.message_id for h in (await SearchIndex(sessions).search("u1", "m2b")).hits] == ["m2b"]
    await engine.dispose()


async def test_a_branched_thread_exports_and_imports_its_tree(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http("alice") as alice:
        url = f"/api/threads/{thread}/messages"
        first = (await alice.post(url, json={"text": "one"})).json()
        await wait_run(server, "alice", first["run_id"])
        edit = (await alice.post(url, json={"text": "uno", "parent_id": None})).json()
        await wait_run(server, "alice", edit["run_id"])
        doc = (await alice.get(f"/api/threads/{thread}/export")).json()
        markdown = (await alice.get(f"/api/threads/{thread}/export?format=markdown")).text
        imported = await alice.post("/api/threads/import", json=doc)
        assert imported.status_code == 201, imported.text
        new_id = imported.json()["id"]
        tree = (await alice.get(f"/api/threads/{new_id}/messages?view=tree")).json()["items"]
        path = (await alice.get(f"/api/threads/{new_id}/messages")).json()["items"]
    assert [m["parent_id"] is None for m in doc["messages"]] == [True, False, True, False]
    assert doc["thread"]["active_leaf_id"] == doc["messages"][-1]["id"]
    assert "you said: uno" in markdown  # people read the branch shown
    assert "you said: one" not in markdown
    assert _shape(tree) == _shape(doc["messages"])
    assert [m["content"] for m in path] == ["uno", "you said: uno "]
    assert len(path[0]["sibling_ids"]) == 2


def _shape(messages: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(content, parent's content) of each message: the tree without its ids."""
    by_id = {m["id"]: m["content"] for m in messages}
    return sorted((m["content"], by_id.get(m["parent_id"])) for m in messages)


async def test_an_import_whose_parents_make_a_cycle_is_refused(server: Server) -> None:
    at = utcnow().isoformat()
    doc = {
        "thread": {"title": "loop"},
        "messages": [
            {"id": "a", "role": "user", "content": "a", "created_at": at, "parent_id": "b"},
            {"id": "b", "role": "assistant", "content": "b", "created_at": at, "parent_id": "a"},
        ],
    }
    async with server.http("alice") as alice:
        response = await alice.post("/api/threads/import", json=doc)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["reason"] == "bad_import"
    assert "cycle" in response.json()["detail"]["message"]
