"""Assistants through the API, on SQLite and PostgreSQL: the builtin one, the catalog's
shared ones, shared ones admins make, personal ones; threads started with one.

The SDK and `netra chat --assistant` use them too.

Hostile cases: another user's personal assistant read, changed or deleted (404); a shared
or builtin one changed or deleted by a user (403); a shared one made by a non-admin
(403); an empty or blank name, 20,001 characters of instructions, nine starters, an
unknown tool, a tool of an undeclared MCP server, a model the user may not use or that
does not exist; a thread started with someone else's assistant or with one whose model
the user may not use.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from netra.agents.builtin_tools import BUILTIN_TOOL_NAMES
from netra.auth.component import AuthComponent
from netra.chat.component import ChatComponent
from netra.client import NetraClient, NetraError
from netra.service import build_app
from netra.testing import bearer
from tests.support.apps import SettingsFactory
from tests.support.chat import Server, promote, start_server, stop_server

CATALOG = """
[[models]]
id = "fast"
provider = "builtin"
capabilities = ["tools"]
default = true

[[models]]
id = "staff"
provider = "builtin"
roles = ["admin"]

[[assistants]]
id = "helper"
name = "Helper"
instructions = "You are concise."
model = "fast"
tools = ["calculator"]
starters = ["What is 2 + 2?"]
"""

MINE = {
    "name": "Math tutor",
    "instructions": "Explain every step.",
    "model": "fast",
    "tools": ["calculator", "current_time"],
    "starters": ["What is 12 * 12?", "Explain fractions"],
}


@pytest.fixture
async def catalog_server(
    make_settings: SettingsFactory, database_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Server]:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG, encoding="utf-8")
    chat = ChatComponent()
    settings = make_settings(**database_env, MODELS_FILE=str(path))
    server = await start_server(build_app(settings, [AuthComponent(), chat]), chat)
    try:
        yield server
    finally:
        await stop_server(server)


def reason(response: httpx.Response) -> str:
    return str(response.json()["detail"]["reason"])


def ids(listed: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in listed]


async def test_personal_assistants_are_their_owners_alone(catalog_server: Server) -> None:
    server = catalog_server
    async with server.http("alice") as alice, server.http("bob") as bob:
        listed = (await alice.get("/api/assistants")).json()
        assert ids(listed) == ["builtin", "helper"]
        builtin, helper = listed
        assert (builtin["kind"], builtin["editable"]) == ("builtin", False)
        assert builtin["tools"] == list(BUILTIN_TOOL_NAMES)
        assert (helper["kind"], helper["shared"], helper["editable"]) == ("catalog", True, False)
        assert helper["starters"] == ["What is 2 + 2?"]

        created = await alice.post("/api/assistants", json=MINE)
        assert created.status_code == 201, created.text
        mine = created.json()
        assert {key: mine[key] for key in MINE} == MINE
        assert (mine["kind"], mine["shared"], mine["editable"]) == ("personal", False, True)
        assert ids((await alice.get("/api/assistants")).json()) == ["builtin", "helper", mine["id"]]
        assert ids((await bob.get("/api/assistants")).json()) == ["builtin", "helper"]
        assert (await alice.get(f"/api/assistants/{mine['id']}")).json() == mine

        for response in (
            await bob.get(f"/api/assistants/{mine['id']}"),
            await bob.patch(f"/api/assistants/{mine['id']}", json={"name": "mine now"}),
            await bob.delete(f"/api/assistants/{mine['id']}"),
            await alice.get("/api/assistants/nope"),
        ):
            assert (response.status_code, reason(response)) == (404, "not_found")

        patched = await alice.patch(
            f"/api/assistants/{mine['id']}", json={"name": "Tutor", "tools": [], "model": None}
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["name"], patched.json()["tools"]) == ("Tutor", [])
        assert patched.json()["model"] is None
        assert patched.json()["instructions"] == MINE["instructions"]

        deleted = await alice.delete(f"/api/assistants/{mine['id']}")
        assert deleted.status_code == 204
        assert (await alice.get(f"/api/assistants/{mine['id']}")).status_code == 404


async def test_shared_assistants_are_changed_by_admins_only(catalog_server: Server) -> None:
    server = catalog_server
    async with server.http("alice") as alice:
        for path in ("/api/assistants/helper", "/api/assistants/builtin"):
            changed = await alice.patch(path, json={"name": "Mine"})
            assert (changed.status_code, reason(changed)) == (403, "forbidden")
            assert (await alice.delete(path)).status_code == 403
        refused = await alice.post("/api/assistants", json={**MINE, "shared": True})
        assert (refused.status_code, reason(refused)) == (403, "forbidden")

    token = await promote(server, "carol")
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(token)) as admin:
        made = await admin.post("/api/assistants", json={**MINE, "shared": True})
        assert made.status_code == 201, made.text
        shared = made.json()
        assert (shared["kind"], shared["shared"], shared["editable"]) == ("shared", True, True)
        still_catalog = await admin.patch("/api/assistants/helper", json={"name": "x"})
        assert "MODELS_FILE" in still_catalog.json()["detail"]["message"]

        async with server.http("alice") as alice:
            seen = (await alice.get(f"/api/assistants/{shared['id']}")).json()
            assert (seen["name"], seen["editable"]) == (MINE["name"], False)
            path = f"/api/assistants/{shared['id']}"
            assert (await alice.patch(path, json={"name": "x"})).status_code == 403
            assert (await alice.delete(path)).status_code == 403

        renamed = await admin.patch(f"/api/assistants/{shared['id']}", json={"name": "Team"})
        assert renamed.json()["name"] == "Team"
        assert (await admin.delete(f"/api/assistants/{shared['id']}")).status_code == 204

        staff_only = await admin.post(
            "/api/assistants", json={"name": "Staff", "model": "staff", "shared": True}
        )
        assert staff_only.status_code == 201
    async with server.http("alice") as alice:
        refused = await alice.post("/api/threads", json={"assistant_id": staff_only.json()["id"]})
        assert (refused.status_code, reason(refused)) == (403, "model_not_allowed")


INVALID: list[tuple[dict[str, Any], int, str]] = [
    ({"name": ""}, 422, "invalid_request"),
    ({"name": "   "}, 422, "invalid_request"),
    ({"name": "x" * 101}, 422, "invalid_request"),
    ({"instructions": "i" * 20_001}, 422, "invalid_request"),
    ({"starters": ["s"] * 9}, 422, "invalid_request"),
    ({"tools": ["rm_rf"]}, 422, "unknown_tool"),
    ({"tools": ["nowhere__tool"]}, 422, "unknown_tool"),
    ({"model": "staff"}, 403, "model_not_allowed"),
    ({"model": "nope"}, 403, "model_not_allowed"),
]


async def test_an_invalid_assistant_is_refused_with_its_reason(catalog_server: Server) -> None:
    async with catalog_server.http("alice") as alice:
        made = (await alice.post("/api/assistants", json={"name": "ok"})).json()
        nameless = await alice.post("/api/assistants", json={"instructions": "no name"})
        assert (nameless.status_code, reason(nameless)) == (422, "invalid_request")
        for fields, status, why in INVALID:
            created = await alice.post("/api/assistants", json={"name": "x", **fields})
            patched = await alice.patch(f"/api/assistants/{made['id']}", json=fields)
            for refused in (created, patched):
                assert (refused.status_code, reason(refused)) == (status, why), fields
            if why == "unknown_tool":
                assert "calculator" in created.json()["detail"]["message"]
        unchanged = (await alice.get(f"/api/assistants/{made['id']}")).json()
        assert (unchanged["name"], unchanged["tools"], unchanged["model"]) == ("ok", [], None)


async def test_a_thread_is_started_with_an_assistant(catalog_server: Server) -> None:
    server = catalog_server
    async with server.http("alice") as alice, server.http("bob") as bob:
        mine = (await alice.post("/api/assistants", json=MINE)).json()
        plain = (await alice.post("/api/threads", json={"title": "t"})).json()
        assert plain["assistant_id"] == "builtin"
        started = await alice.post("/api/threads", json={"assistant_id": mine["id"]})
        assert started.status_code == 201
        assert started.json()["assistant_id"] == mine["id"]
        tid = started.json()["id"]

        for assistant_id in ("helper", "builtin", mine["id"]):
            changed = await alice.patch(f"/api/threads/{tid}", json={"assistant_id": assistant_id})
            assert changed.json()["assistant_id"] == assistant_id
        back = await alice.patch(f"/api/threads/{tid}", json={"assistant_id": None})
        assert back.json()["assistant_id"] == "builtin"

        theirs = await bob.post("/api/threads", json={"assistant_id": mine["id"]})
        assert (theirs.status_code, reason(theirs)) == (404, "not_found")
        bob_tid = (await bob.post("/api/threads", json={})).json()["id"]
        theirs = await bob.patch(f"/api/threads/{bob_tid}", json={"assistant_id": mine["id"]})
        assert (theirs.status_code, reason(theirs)) == (404, "not_found")

        # A deleted assistant leaves its threads with the builtin one.
        await alice.patch(f"/api/threads/{tid}", json={"assistant_id": mine["id"]})
        await alice.delete(f"/api/assistants/{mine['id']}")
        posted = await alice.post(f"/api/threads/{tid}/messages", json={"text": "what is 2+2?"})
        assert posted.status_code == 202, posted.text


async def test_the_sdk_makes_assistants_and_starts_threads_with_them(
    catalog_server: Server,
) -> None:
    token = await catalog_server.users.token("alice")
    async with NetraClient(catalog_server.url, access_token=token) as netra:
        assert [a.id for a in await netra.list_assistants()] == ["builtin", "helper"]
        made = await netra.create_assistant(
            "Calculator", instructions="Numbers only.", tools=["calculator"], starters=["6 * 7?"]
        )
        assert (made.kind, made.editable, made.tools) == ("personal", True, ("calculator",))
        assert await netra.get_assistant(made.id) == made
        thread = await netra.create_thread("sdk", assistant_id=made.id)
        assert thread.assistant_id == made.id
        events = [event async for event in netra.ask(thread.id, "what is 6 * 7?")]
        assert "42" in events[-1].payload["text"]

        # Without the calculator the builtin planner has nothing to compute with.
        renamed = await netra.update_assistant(made.id, name="Talker", tools=[])
        assert (renamed.name, renamed.tools) == ("Talker", ())
        assert renamed.instructions == "Numbers only."
        events = [event async for event in netra.ask(thread.id, "what is 6 * 7?")]
        assert not [event for event in events if event.type == "tool_executing"]
        assert events[-1].payload["text"].startswith("I'm Netra's built-in assistant")

        assert (await netra.set_thread_assistant(thread.id, None)).assistant_id == "builtin"
        await netra.delete_assistant(made.id)
        with pytest.raises(NetraError) as gone:
            await netra.get_assistant(made.id)
        assert (gone.value.status, gone.value.reason) == (404, "not_found")
        with pytest.raises(NetraError) as refused:
            await netra.create_assistant("x", tools=["nope"])
        assert (refused.value.status, refused.value.reason) == (422, "unknown_tool")


async def test_netra_chat_assistant_flag(catalog_server: Server) -> None:
    netra = Path(sys.executable).parent / "netra"
    token = await catalog_server.users.token("alice")
    env = {**os.environ, "NETRA_TOKEN": token}
    common = [str(netra), "chat", "--url", catalog_server.url, "-m", "what is 2 + 2?"]
    for assistant, code in (("helper", 0), ("someone-elses", 1)):
        process = await asyncio.create_subprocess_exec(
            *common,
            "--assistant",
            assistant,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == code, stderr.decode()
        if code == 0:
            assert "4" in stdout.decode()
        else:
            assert "assistant 'someone-elses' not found" in stderr.decode()
    async with catalog_server.http("alice") as alice:
        [thread] = (await alice.get("/api/threads")).json()
    assert thread["assistant_id"] == "helper"
