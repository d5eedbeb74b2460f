"""Files in a thread over REST, on SQLite and PostgreSQL: upload (type from the bytes,
name sanitised), list, download (owner only, as an attachment), delete, attach to a
message, find in `GET /api/search`, gone with their thread.

Hostile uploads, each a precise 4xx naming why, never a 500: a PDF that is encrypted,
malformed, a zip bomb, or 10,000 pages (partial text, flagged); a name of
`../../etc/passwd` or 5,000 characters; binary sent as text/plain; an image over its
limit; another user's file id in file_ids, download or delete; a file of another thread
in file_ids (tests/security/test_bodies.py: the upload route's own body limit).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from netra.testing.pdfs import MALFORMED_PDF, bomb_pdf, many_pages_pdf, text_pdf
from tests.support.chat import ALICE, Server, connect, new_thread, recv, wait_run

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(
    client: httpx.AsyncClient,
    thread_id: str,
    data: bytes,
    name: str = "notes.txt",
    content_type: str = "text/plain",
) -> httpx.Response:
    return await client.post(
        f"/api/threads/{thread_id}/files", files={"file": (name, data, content_type)}
    )


def refused(response: httpx.Response, status: int, reason: str) -> str:
    assert response.status_code == status, response.text
    detail: dict[str, Any] = response.json()["detail"]
    assert detail["reason"] == reason
    return str(detail["message"])


async def test_upload_list_download_delete(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http(ALICE) as client:
        response = await upload(client, thread, b"# Plan\n\nBuy a lighthouse.\n", "plan.md")
        assert response.status_code == 201, response.text
        made = response.json()
        assert {k: made[k] for k in ("name", "size", "content_type")} == {
            "name": "plan.md",
            "size": 26,
            "content_type": "text/markdown",
        }
        listed = (await client.get(f"/api/threads/{thread}/files")).json()
        assert [f["id"] for f in listed] == [made["id"]]

        download = await client.get(f"/api/files/{made['id']}")
        assert download.status_code == 200
        assert download.content == b"# Plan\n\nBuy a lighthouse.\n"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-disposition"].startswith('attachment; filename="plan.md"')

        export = await client.get(f"/api/threads/{thread}/export", params={"format": "json"})
        refs = [(f["id"], f["name"], f["size"]) for f in export.json()["files"]]
        assert refs == [(made["id"], "plan.md", 26)]

        assert (await client.delete(f"/api/files/{made['id']}")).status_code == 204
        refused(await client.get(f"/api/files/{made['id']}"), 404, "not_found")
        assert (await client.get(f"/api/threads/{thread}/files")).json() == []


async def test_type_is_sniffed_from_the_bytes_not_the_name_or_claim(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http(ALICE) as client:
        pdf = await upload(client, thread, text_pdf(["hello"]), "report.txt", "text/plain")
        assert pdf.json()["content_type"] == "application/pdf"
        image = await upload(client, thread, PNG, "cat.pdf", "application/pdf")
        assert image.json()["content_type"] == "image/png"
        data = await upload(client, thread, b'{"a": [1, 2]}', "data.txt")
        assert data.json()["content_type"] == "application/json"
        html = await upload(client, thread, b"<script>alert(1)</script>", "x.html", "text/html")
        assert html.json()["content_type"] == "text/plain"


async def test_binary_claiming_text_plain_is_refused(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http(ALICE) as client:
        for data in (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), b"text\x00with a NUL"):
            response = await upload(client, thread, data, "readme.txt", "text/plain")
            refused(response, 422, "unsupported_file_type")


async def test_path_and_overlong_names_are_sanitised(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http(ALICE) as client:
        escape = await upload(client, thread, b"root:x:0:0", "../../etc/passwd")
        assert escape.status_code == 201
        assert escape.json()["name"] == "passwd"
        windows = await upload(client, thread, b"x", "..\\..\\boot.ini")
        assert windows.json()["name"] == "boot.ini"
        long = await upload(client, thread, b"x", "a" * 5000 + ".txt")
        assert long.status_code == 201
        assert len(long.json()["name"]) == 255
        assert long.json()["name"].endswith(".txt")
        download = await client.get(f"/api/files/{escape.json()['id']}")
        assert "/" not in download.headers["content-disposition"]


async def test_hostile_pdfs(server: Server) -> None:
    thread = await new_thread(server)
    async with server.http(ALICE) as client:
        encrypted = await upload(client, thread, text_pdf(["secret"], password="pw"), "a.pdf")
        assert "encrypted" in refused(encrypted, 422, "unreadable_pdf")
        malformed = await upload(client, thread, MALFORMED_PDF, "b.pdf")
        refused(malformed, 422, "unreadable_pdf")
        bomb = await upload(client, thread, bomb_pdf(40_000_000), "c.pdf")
        assert "inflates" in refused(bomb, 422, "unreadable_pdf")

        huge = await upload(client, thread, many_pages_pdf(10_000), "d.pdf")
        assert huge.status_code == 201, huge.text
        assert "first 500 of 10000 pages" in huge.json()["text_note"]


async def test_limits_per_file_image_thread_and_user(serve: Any) -> None:
    server = await serve(
        FILE_MAX_BYTES="4096",
        FILE_IMAGE_MAX_BYTES="2048",
        THREAD_FILES_MAX_BYTES="6000",
        USER_FILES_MAX_BYTES="9000",
        UPLOAD_MAX_BODY_BYTES="8192",
    )
    first, second = await new_thread(server), await new_thread(server)
    async with server.http(ALICE) as client:
        big = await upload(client, first, b"a" * 5000)
        assert "FILE_MAX_BYTES" in refused(big, 413, "file_too_large")
        image = await upload(client, first, PNG + b"\x00" * 3000, "cat.png", "image/png")
        assert "FILE_IMAGE_MAX_BYTES" in refused(image, 413, "file_too_large")

        assert (await upload(client, first, b"a" * 4000)).status_code == 201
        full = await upload(client, first, b"a" * 3000)
        assert "THREAD_FILES_MAX_BYTES" in refused(full, 413, "thread_files_full")
        assert (await upload(client, second, b"a" * 4000)).status_code == 201
        over = await upload(client, second, b"a" * 1500)
        assert "USER_FILES_MAX_BYTES" in refused(over, 413, "user_files_full")


async def test_another_users_file_is_absent_everywhere(server: Server) -> None:
    thread = await new_thread(server)
    bobs_thread = await new_thread(server, "bob")
    async with server.http(ALICE) as alice, server.http("bob") as bob:
        mine = (await upload(alice, thread, b"alice's diary")).json()["id"]
        refused(await bob.get(f"/api/files/{mine}"), 404, "not_found")
        refused(await bob.delete(f"/api/files/{mine}"), 404, "not_found")
        refused(await bob.get(f"/api/threads/{thread}/files"), 404, "not_found")
        refused(await upload(bob, thread, b"x"), 404, "not_found")
        sent = await bob.post(
            f"/api/threads/{bobs_thread}/messages", json={"text": "read", "file_ids": [mine]}
        )
        refused(sent, 404, "not_found")
        assert (await alice.get(f"/api/files/{mine}")).status_code == 200


async def test_attach_to_a_message_and_a_file_of_another_thread(server: Server) -> None:
    thread, other = await new_thread(server), await new_thread(server)
    async with server.http(ALICE) as client:
        here = (await upload(client, thread, b"tide tables", "tides.txt")).json()
        there = (await upload(client, other, b"elsewhere")).json()
        wrong = await client.post(
            f"/api/threads/{thread}/messages", json={"text": "hi", "file_ids": [there["id"]]}
        )
        refused(wrong, 422, "file_not_in_thread")
        posted = await client.post(
            f"/api/threads/{thread}/messages", json={"text": "read it", "file_ids": [here["id"]]}
        )
        assert posted.status_code == 202, posted.text
        attached = posted.json()["message"]["attachments"]
        assert [(a["id"], a["name"]) for a in attached] == [(here["id"], "tides.txt")]
        await wait_run(server, ALICE, posted.json()["run_id"])
        page = (await client.get(f"/api/threads/{thread}/messages")).json()
        assert page["items"][0]["attachments"][0]["id"] == here["id"]


async def test_files_are_found_by_search_and_go_with_their_thread(server: Server) -> None:
    thread = await new_thread(server)
    pdf = text_pdf(["Nothing here.", "The lighthouse keeper logs the tides nightly."])
    async with server.http(ALICE) as client, server.http("bob") as bob:
        made = (await upload(client, thread, pdf, "log.pdf")).json()
        found = (await client.get("/api/search", params={"q": "lighthouse keeper"})).json()
        files = [r for r in found["results"] if r["kind"] == "file"]
        assert [(r["file_id"], r["thread_id"], r["title"]) for r in files] == [
            (made["id"], thread, "log.pdf")
        ]
        snippet = files[0]["snippet"]
        assert [snippet[a:b].lower() for a, b in files[0]["highlights"]] == [
            "lighthouse",
            "keeper",
        ]
        assert (await bob.get("/api/search", params={"q": "lighthouse"})).json()["results"] == []

        assert (await client.delete(f"/api/threads/{thread}")).status_code == 204
        refused(await client.get(f"/api/files/{made['id']}"), 404, "not_found")
        again = (await client.get("/api/search", params={"q": "lighthouse"})).json()
        assert again["results"] == []


async def test_the_socket_attaches_files_by_the_same_rules(server: Server) -> None:
    thread, other = await new_thread(server), await new_thread(server)
    bobs = await new_thread(server, "bob")
    async with server.http(ALICE) as alice, server.http("bob") as bob:
        mine = (await upload(alice, thread, b"socket notes")).json()["id"]
        elsewhere = (await upload(alice, other, b"other notes")).json()["id"]
        foreign = (await upload(bob, bobs, b"bob's notes")).json()["id"]
    async with connect(server) as ws:
        await recv(ws)
        for n, (file_id, code) in enumerate(
            [(foreign, "not_found"), (elsewhere, "file_not_in_thread")]
        ):
            request = {"type": "send_message", "thread_id": thread, "text": "hi", "id": f"r{n}"}
            await ws.send(json.dumps({**request, "file_ids": [file_id]}))
            answer = await recv(ws)
            assert (answer["type"], answer["payload"]["code"]) == ("error", code)
        request = {"type": "send_message", "thread_id": thread, "text": "hi", "id": "ok"}
        await ws.send(json.dumps({**request, "file_ids": [mine]}))
        acked = await recv(ws)
        assert acked["type"] == "ack", acked
    async with server.http(ALICE) as alice:
        page = (await alice.get(f"/api/threads/{thread}/messages")).json()
    assert [a["id"] for a in page["items"][0]["attachments"]] == [mine]
