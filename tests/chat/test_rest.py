"""REST: threads, messages, runs and the event log, per user."""

from __future__ import annotations

import asyncio
import base64

from tests.support.chat import Server, count_rows, new_thread, service_token, wait_run


async def test_thread_crud_and_ownership(server: Server) -> None:
    async with server.http("alice") as alice, server.http("bob") as bob:
        created = await alice.post("/api/threads", json={"title": "Plans"})
        assert created.status_code == 201
        tid = created.json()["id"]
        assert [t["id"] for t in (await alice.get("/api/threads")).json()] == [tid]
        assert (await bob.get("/api/threads")).json() == []
        for method in ("GET", "PATCH", "DELETE"):
            response = await bob.request(method, f"/api/threads/{tid}", json={"title": "x"})
            assert response.status_code == 404
            assert response.json() == {
                "detail": {"reason": "not_found", "message": "thread not found"}
            }
        renamed = await alice.patch(f"/api/threads/{tid}", json={"title": "Trips"})
        assert renamed.json()["title"] == "Trips"
        posted = await alice.post(f"/api/threads/{tid}/messages", json={"text": "hi"})
        await wait_run(server, "alice", posted.json()["run_id"])
        assert await count_rows(server) != (0, 0, 0)
        assert (await alice.delete(f"/api/threads/{tid}")).status_code == 204
        assert (await alice.get(f"/api/threads/{tid}")).status_code == 404
        assert await count_rows(server) == (0, 0, 0)  # messages, runs, events went with it


async def test_requests_without_a_valid_token_get_401(server: Server) -> None:
    async with server.http() as anonymous:
        response = await anonymous.get("/api/threads")
        assert response.status_code == 401
        assert response.json() == {
            "detail": {"reason": "missing", "message": "missing access token"}
        }
        assert response.headers["WWW-Authenticate"] == "Bearer"
        bad = await anonymous.get("/api/threads", headers={"Authorization": "Bearer nope"})
        assert (bad.status_code, bad.json()) == (
            401,
            {"detail": {"reason": "malformed", "message": "a token has three dot-separated parts"}},
        )
        headers = {"Authorization": f"Bearer {await service_token(server)}"}
        service = await anonymous.get("/api/threads", headers=headers)
        assert (service.status_code, service.json()) == (
            403,
            {
                "detail": {
                    "reason": "forbidden",
                    "message": "service tokens cannot use the chat API",
                }
            },
        )


async def test_post_message_runs_the_agent_and_is_idempotent(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        body = {"text": "hello there", "client_msg_id": "m-1"}
        first = await client.post(f"/api/threads/{tid}/messages", json=body)
        assert first.status_code == 202, first.text
        again = await client.post(f"/api/threads/{tid}/messages", json=body)
        assert again.status_code == 200
        assert again.json()["run_id"] == first.json()["run_id"]
        assert again.json()["created"] is False
        run = await wait_run(server, "alice", first.json()["run_id"])
        assert run["status"] == "completed"
        page = (await client.get(f"/api/threads/{tid}/messages", params={"limit": 1})).json()
        assert [m["role"] for m in page["items"]] == ["user"]
        rest = await client.get(
            f"/api/threads/{tid}/messages", params={"cursor": page["next_cursor"]}
        )
        assert [m["content"] for m in rest.json()["items"]] == ["you said: hello there "]
        assert rest.json()["next_cursor"] is None
        events = (await client.get(f"/api/threads/{tid}/events")).json()
        kinds = [e["type"] for e in events["items"]]
        assert (kinds[0], kinds[-1]) == ("agent_started", "agent_completed")
        assert [e["seq"] for e in events["items"]] == list(range(1, len(kinds) + 1))
        tail = await client.get(f"/api/threads/{tid}/events", params={"after_seq": 3})
        assert tail.json()["items"][0]["seq"] == 4


async def test_bad_rest_input_gets_clear_4xx(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        future = await client.get(f"/api/threads/{tid}/events", params={"after_seq": 99})
        assert future.status_code == 400
        assert future.json()["detail"] == {
            "reason": "bad_seq",
            "message": "after_seq must be between 0 and the thread's last seq 0",
        }
        negative = await client.get(f"/api/threads/{tid}/events", params={"after_seq": -1})
        assert negative.status_code == 422
        assert negative.json()["detail"]["reason"] == "invalid_request"
        assert "-1" not in negative.text  # what was sent is never echoed
        naive = base64.urlsafe_b64encode(b"2024-01-01T00:00:00|x").decode()  # no UTC offset
        for forged in ("zz", naive):
            cursor = await client.get(f"/api/threads/{tid}/messages", params={"cursor": forged})
            assert cursor.status_code == 400, cursor.text
            assert cursor.json()["detail"]["reason"] == "bad_cursor"
            assert "is not one this server issued" in cursor.json()["detail"]["message"]
        long = await client.post(f"/api/threads/{tid}/messages", json={"text": "x" * 16001})
        assert long.status_code == 413
        assert long.json() == {
            "detail": {
                "reason": "too_long",
                "message": "message text is 16001 characters; limit 16000",
            }
        }
        assert (await client.get("/api/runs/nope")).status_code == 404


async def test_cancel_running_and_finished_runs(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        posted = (await client.post(f"/api/threads/{tid}/messages", json={"text": "hang"})).json()
        await asyncio.sleep(0.1)
        cancel = await client.post(f"/api/runs/{posted['run_id']}/cancel")
        assert cancel.status_code == 202
        run = await wait_run(server, "alice", posted["run_id"])
        assert (run["status"], run["error"]) == ("cancelled", "cancelled by the user")
        again = await client.post(f"/api/runs/{posted['run_id']}/cancel")
        assert again.status_code == 409
        assert again.json() == {
            "detail": {"reason": "run_finished", "message": "run already cancelled"}
        }
        events = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
        assert events[-1]["type"] == "agent_error"
        assert events[-1]["payload"] == {"reason": "cancelled by the user", "code": "cancelled"}


async def test_provider_timeout_and_crashing_tool_end_with_agent_error(server: Server) -> None:
    tid = await new_thread(server)
    async with server.http("alice") as client:
        hang = (await client.post(f"/api/threads/{tid}/messages", json={"text": "hang"})).json()
        await wait_run(server, "alice", hang["run_id"])  # one run per thread at a time
        crash = (await client.post(f"/api/threads/{tid}/messages", json={"text": "crash"})).json()
        assert (await wait_run(server, "alice", hang["run_id"]))["status"] == "failed"
        assert (await wait_run(server, "alice", crash["run_id"]))["status"] == "failed"
        events = (await client.get(f"/api/threads/{tid}/events")).json()["items"]
        errors = {e["run_id"]: e["payload"] for e in events if e["type"] == "agent_error"}
        assert errors[hang["run_id"]] == {
            "reason": "The agent did not finish within 2 seconds.",
            "code": "timeout",
        }
        # The reason never leaks the exception's text (it may hold secrets); logs have it.
        assert errors[crash["run_id"]] == {
            "reason": "The agent failed unexpectedly (RuntimeError).",
            "code": "internal",
        }
