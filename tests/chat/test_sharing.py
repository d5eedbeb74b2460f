"""Export (JSON, Markdown), import, read-only shares and feedback on answers, on SQLite
and PostgreSQL.

Hostile cases: another user's thread, message or share; a user's own question rated;
ratings of 0, 2, "up"; a 2,001-character comment; import documents with foreign or
duplicate ids, a parent or run reference that resolves nowhere, naive timestamps, an
unknown role, 5,001 messages, a wrong `format`; share tokens that are made up, too short,
5,000 characters or revoked; the feedback list asked by a non-admin.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from netra.chat.models import Share
from netra.chat.sharing import token_hash
from netra.testing import bearer
from tests.support.chat import Server, new_thread, promote, wait_run


async def asked(srv: Server, user: str, thread_id: str, text: str) -> dict[str, Any]:
    """Post `text`, wait for its run; the posted answer."""
    async with srv.http(user) as client:
        posted = await client.post(f"/api/threads/{thread_id}/messages", json={"text": text})
        assert posted.status_code == 202, posted.text
    run = await wait_run(srv, user, posted.json()["run_id"])
    assert run["status"] == "completed", run
    return dict(posted.json())


async def answer_id(srv: Server, user: str, thread_id: str) -> str:
    async with srv.http(user) as client:
        items = (await client.get(f"/api/threads/{thread_id}/messages")).json()["items"]
    return str([m for m in items if m["role"] == "assistant"][-1]["id"])


async def test_export_holds_messages_runs_and_tool_calls(server: Server) -> None:
    thread = await new_thread(server, "alice")
    await asked(server, "alice", thread, "please search my notes")
    await asked(server, "alice", thread, "thanks")
    async with server.http("alice") as alice:
        response = await alice.get(f"/api/threads/{thread}/export")
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        doc = response.json()
        markdown = await alice.get(f"/api/threads/{thread}/export", params={"format": "markdown"})
    assert doc["format"] == "netra.thread.v1"
    assert [(m["role"], m["content"]) for m in doc["messages"]] == [
        ("user", "please search my notes"),
        ("assistant", "you said: please search my notes "),
        ("user", "thanks"),
        ("assistant", "you said: thanks "),
    ]
    first_run = doc["runs"][0]
    assert first_run["status"] == "completed"
    assert first_run["tool_calls"] == [
        {
            "call_id": "c1",
            "tool": "search",
            "arguments": {"q": "search"},
            "result": 1,  # the search found the question itself
            "error": None,
            "duration_ms": 1.0,
        }
    ]
    assert doc["runs"][1]["tool_calls"] == []
    assert markdown.headers["content-type"].startswith("text/markdown")
    text = markdown.text
    assert text.startswith(f"# {doc['thread']['title']}\n")
    assert "## You · " in text
    assert '> Tool `search` `{"q": "search"}` → `1`' in text
    assert text.index("please search my notes") < text.index("you said: thanks")


async def test_import_makes_a_new_thread_that_replays_like_any_other(server: Server) -> None:
    thread = await new_thread(server, "alice")
    await asked(server, "alice", thread, "please search my notes")
    async with server.http("alice") as alice, server.http("bob") as bob:
        doc = (await alice.get(f"/api/threads/{thread}/export")).json()
        imported = await bob.post("/api/threads/import", json=doc)
        assert imported.status_code == 201, imported.text
        copy = imported.json()["id"]
        assert copy != thread
        again = (await bob.get(f"/api/threads/{copy}/export")).json()
        events = (await bob.get(f"/api/threads/{copy}/events")).json()
        assert (await alice.get(f"/api/threads/{copy}")).status_code == 404
    assert [(m["role"], m["content"]) for m in again["messages"]] == [
        (m["role"], m["content"]) for m in doc["messages"]
    ]
    assert not {m["id"] for m in again["messages"]} & {m["id"] for m in doc["messages"]}
    assert again["runs"][0]["tool_calls"] == doc["runs"][0]["tool_calls"]
    seqs = [e["seq"] for e in events["items"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [e["type"] for e in events["items"]] == [
        "agent_started",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ]


def minimal(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "netra.thread.v1",
        "thread": {"title": "Imported"},
        "messages": [
            {
                "id": "m1",
                "role": "user",
                "content": "hi",
                "created_at": "2026-01-01T00:00:00Z",
                "run_id": "r1",
            },
            {
                "id": "m2",
                "role": "assistant",
                "content": "hello",
                "created_at": "2026-01-01T00:00:01Z",
                "run_id": "r1",
            },
        ],
        "runs": [{"id": "r1", "status": "completed"}],
    }
    doc.update(changes)
    return doc


def message(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "id": f"m{n}",
        "role": "user",
        "content": "x",
        "created_at": "2026-01-01T00:00:00Z",
        **changes,
    }


@pytest.mark.parametrize(
    ("doc", "status", "says"),
    [
        (minimal(format="netra.thread.v2"), 422, "format"),
        (minimal(messages=[message(1), message(1)]), 422, "two messages share an id"),
        (minimal(messages=[message(1, parent_id="elsewhere")]), 422, "parent_id names no message"),
        (minimal(messages=[message(1, run_id="nope")]), 422, "run_id names no run"),
        (minimal(messages=[message(1, created_at="2026-01-01T00:00:00")]), 422, "timezone"),
        (minimal(messages=[message(1, role="system")]), 422, "role"),
        (minimal(messages=[message(n) for n in range(5001)]), 422, "5000"),
        (minimal(runs=[{"id": "r1", "status": "completed"}] * 2), 422, "two runs share an id"),
        (minimal(thread={"title": ""}), 422, "title"),
    ],
)
async def test_bad_imports_are_refused_and_store_nothing(
    server: Server, doc: dict[str, Any], status: int, says: str
) -> None:
    async with server.http("alice") as alice:
        response = await alice.post("/api/threads/import", json=doc)
        assert response.status_code == status, response.text
        assert says in response.text
        assert (await alice.get("/api/threads")).json() == []


async def test_a_foreign_id_in_an_import_is_only_a_label(server: Server) -> None:
    bobs = await new_thread(server, "bob")
    async with server.http("alice") as alice, server.http("bob") as bob:
        doc = minimal(messages=[message(1, id=bobs)], runs=[])
        made = await alice.post("/api/threads/import", json=doc)
        assert made.status_code == 201
        assert (await bob.get(f"/api/threads/{bobs}")).status_code == 200
        assert (await alice.get(f"/api/threads/{bobs}")).status_code == 404


async def test_a_share_shows_a_frozen_snapshot_until_revoked(server: Server) -> None:
    thread = await new_thread(server, "alice")
    await asked(server, "alice", thread, "please search my notes")
    async with server.http("alice") as alice, server.http("bob") as bob, server.http() as anon:
        made = await alice.post(f"/api/threads/{thread}/shares", json={})
        assert made.status_code == 201, made.text
        share = made.json()
        token = share["url"].rsplit("/s/", 1)[1]
        assert share["url"].startswith(server.url + "/s/")
        assert len(token) >= 32
        await asked(server, "alice", thread, "said after sharing")

        page = await anon.get(f"/s/{token}")
        assert page.status_code == 200
        assert "noindex" in page.headers["x-robots-tag"]
        assert '<meta name="robots" content="noindex' in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        data = await anon.get(f"/api/shared/{token}")
        assert data.status_code == 200
        assert "noindex" in data.headers["x-robots-tag"]
        snapshot = data.json()
        assert [m["content"] for m in snapshot["messages"]] == [
            "please search my notes",
            "you said: please search my notes ",
        ]
        assert snapshot["messages"][1]["tool_calls"][0]["tool"] == "search"
        assert snapshot["author"] is None
        alice_id = await server.users.id("alice")
        assert alice_id not in data.text
        assert "alice" not in data.text

        listed = (await alice.get(f"/api/threads/{thread}/shares")).json()
        assert [(s["id"], s["url"]) for s in listed] == [(share["id"], None)]
        assert (await bob.delete(f"/api/shares/{share['id']}")).status_code == 404
        assert (await alice.delete(f"/api/shares/{share['id']}")).status_code == 204
        assert (await alice.delete(f"/api/shares/{share['id']}")).status_code == 404
        revoked = await anon.get(f"/s/{token}")
        assert revoked.status_code == 404
        assert "noindex" in revoked.headers["x-robots-tag"]
        assert (await anon.get(f"/api/shared/{token}")).status_code == 404
        # Only the hash is stored: the token itself is nowhere in the database.
        async with server.backend.runtime.db() as session:
            stored = await session.get(Share, share["id"])
            assert stored is not None
            assert stored.token_hash == token_hash(token)


async def test_a_share_names_the_author_only_when_asked_and_never_for_others(
    server: Server,
) -> None:
    thread = await new_thread(server, "alice")
    async with server.http("alice") as alice, server.http("bob") as bob, server.http() as anon:
        made = await alice.post(f"/api/threads/{thread}/shares", json={"author": "Ada L."})
        token = made.json()["url"].rsplit("/s/", 1)[1]
        assert (await anon.get(f"/api/shared/{token}")).json()["author"] == "Ada L."
        assert (await bob.post(f"/api/threads/{thread}/shares", json={})).status_code == 404
        assert (await anon.post(f"/api/threads/{thread}/shares", json={})).status_code == 401
        for made_up in ["x", "A" * 43, "A" * 5000, token[:-1] + ("A" if token[-1] != "A" else "B")]:
            assert (await anon.get(f"/api/shared/{made_up}")).status_code == 404
            assert (await anon.get(f"/s/{made_up}")).status_code == 404


async def test_feedback_rates_an_answer_once_and_admins_list_it(server: Server) -> None:
    thread = await new_thread(server, "alice")
    posted = await asked(server, "alice", thread, "please search my notes")
    answer = await answer_id(server, "alice", thread)
    async with server.http("alice") as alice, server.http("bob") as bob:
        first = await alice.post(f"/api/messages/{answer}/feedback", json={"rating": 1})
        assert first.status_code == 200, first.text
        again = await alice.post(
            f"/api/messages/{answer}/feedback", json={"rating": -1, "comment": "wrong tool"}
        )
        assert again.json()["id"] == first.json()["id"]
        assert (again.json()["rating"], again.json()["comment"]) == (-1, "wrong tool")

        question = posted["message"]["id"]
        own_question = await alice.post(f"/api/messages/{question}/feedback", json={"rating": 1})
        assert own_question.status_code == 422
        assert "not an answer" in own_question.text
        for body in [
            {"rating": 0},
            {"rating": 2},
            {"rating": "up"},
            {"rating": 1, "comment": "x" * 2001},
            {},
        ]:
            assert (
                await alice.post(f"/api/messages/{answer}/feedback", json=body)
            ).status_code == 422
        assert (
            await bob.post(f"/api/messages/{answer}/feedback", json={"rating": 1})
        ).status_code == 404
        assert (
            await alice.post("/api/messages/nope/feedback", json={"rating": 1})
        ).status_code == 404

        assert (await alice.get("/api/admin/feedback")).status_code == 403
    token = await promote(server, "alice")
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(token)) as admin:
        listed = await admin.get("/api/admin/feedback", params={"rating": -1})
        assert listed.status_code == 200, listed.text
        (item,) = listed.json()["items"]
        assert (item["message_id"], item["rating"], item["comment"]) == (answer, -1, "wrong tool")
        assert item["run_id"] == posted["run_id"]
        assert item["provider"] == "scripted"
        assert item["tools"] == ["search"]
        assert (await admin.get("/api/admin/feedback", params={"rating": 1})).json()["items"] == []
        assert (await admin.get("/api/admin/feedback", params={"cursor": "%%"})).status_code == 400
