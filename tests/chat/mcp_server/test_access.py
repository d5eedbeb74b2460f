"""Who may use /mcp: a bearer credential (access token or API key) through the chat
routes' one verifier, and the scopes it holds, per tool. Never a 500."""

from __future__ import annotations

import httpx

from tests.support.chat import Server
from tests.support.mcp_server import api_key, error_text, mcp_client, structured

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


REFUSED: list[tuple[str | None, str]] = [
    (None, "Bearer"),
    ("Bearer not-a-token", 'Bearer error="invalid_token"'),
    ("Bearer nk_forged_0000000000000000", 'Bearer error="invalid_token"'),
    ("Basic YWxpY2U6cHc=", "Bearer"),
]


async def test_a_missing_or_invalid_credential_is_401_with_a_challenge(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for authorization, challenge in REFUSED:
            headers = {**ACCEPT, **({"Authorization": authorization} if authorization else {})}
            for method in ("POST", "GET", "DELETE"):
                answer = await http.request(method, "/mcp", json=INITIALIZE, headers=headers)
                assert answer.status_code == 401, (authorization, method, answer.text)
                assert answer.headers["WWW-Authenticate"] == challenge
                assert answer.json()["detail"]["reason"] in {"missing", "malformed"}


async def test_a_revoked_api_key_is_refused_on_its_next_request(server: Server) -> None:
    key = await api_key(server, "alice", "chat")
    async with mcp_client(server.url + "/mcp", key) as mcp:
        structured(await mcp.call_tool("list_threads", {}))
    async with server.http("alice") as http:
        [listed] = (await http.get("/auth/api-keys")).json()
        assert (await http.delete(f"/auth/api-keys/{listed['id']}")).is_success
        refused = await http.post(
            "/mcp", json=INITIALIZE, headers={**ACCEPT, "Authorization": f"Bearer {key}"}
        )
    assert refused.status_code == 401
    assert refused.json()["detail"]["reason"] == "revoked"


async def test_garbage_with_a_good_credential_is_a_client_error(server: Server) -> None:
    token = await server.users.token("alice")
    headers = {**ACCEPT, "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url) as http:
        for body in (b"{not json", b"[]", b'{"jsonrpc": "2.0", "method": 7}'):
            answer = await http.post(
                "/mcp", content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert 400 <= answer.status_code < 500, (body, answer.status_code, answer.text)
        wrong_type = await http.post("/mcp", content=b"hi", headers=headers)
        assert 400 <= wrong_type.status_code < 500


async def test_chat_read_may_read_but_not_ask(server: Server) -> None:
    key = await api_key(server, "alice", "chat:read")
    async with mcp_client(server.url + "/mcp", key) as mcp:
        structured(await mcp.call_tool("list_threads", {}))
        structured(await mcp.call_tool("search_messages", {"query": "anything"}))
        refused = await mcp.call_tool("ask", {"text": "hello"})
    assert "ask: insufficient_scope: this credential lacks the `chat` scope" in error_text(refused)
    async with server.http("alice") as http:
        assert (await http.get("/api/threads")).json() == []  # no thread was made


async def test_a_key_without_chat_scopes_may_connect_but_use_nothing(server: Server) -> None:
    key = await api_key(server, "alice", "profile")
    async with mcp_client(server.url + "/mcp", key) as mcp:
        for tool, arguments in [
            ("list_threads", {}),
            ("search_messages", {"query": "x"}),
            ("read_thread", {"thread_id": "x"}),
            ("ask", {"text": "x"}),
        ]:
            text = error_text(await mcp.call_tool(tool, arguments))
            assert "insufficient_scope" in text, text


async def test_chat_scope_may_ask(server: Server) -> None:
    key = await api_key(server, "alice", "chat")
    async with mcp_client(server.url + "/mcp", key) as mcp:
        asked = structured(await mcp.call_tool("ask", {"text": "hello"}))
    assert asked["answer"] == "you said: hello "
