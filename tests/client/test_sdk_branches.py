"""The SDK edits a message, regenerates an answer and switches branches."""

from __future__ import annotations

import pytest

from netra.agents.events import AgentCompleted
from netra.client import NetraClient, NotFound
from tests.support.chat import Server


async def test_edit_regenerate_and_switch_branches(server: Server) -> None:
    async with NetraClient(server.url, access_token=await server.users.token()) as netra:
        thread = await netra.create_thread("sdk branches")
        [_ async for _ in netra.ask(thread.id, "first")]
        question, answer = await netra.shown_branch(thread.id)
        edited = await netra.edit(question, "first, edited")
        events = [event async for event in netra.follow(thread.id, edited)]
        assert isinstance(events[-1].event, AgentCompleted)
        new_question, new_answer = await netra.shown_branch(thread.id)
        assert new_question["sibling_ids"] == [question["id"], new_question["id"]]
        regenerated = await netra.regenerate(new_answer["id"])
        events = [event async for event in netra.follow(thread.id, regenerated)]
        assert events[-1].event == AgentCompleted(text="you said: first, edited ", duration_ms=1.0)
        *_, again = await netra.shown_branch(thread.id)
        assert again["sibling_ids"] == [new_answer["id"], again["id"]]
        shown = await netra.show_branch(thread.id, question["id"])
        assert shown.active_leaf_id == answer["id"]
        assert [m["content"] for m in await netra.shown_branch(thread.id)] == [
            "first",
            "you said: first ",
        ]
        assert len((await netra.messages(thread.id, view="tree"))["items"]) == 5
        with pytest.raises(NotFound):
            await netra.regenerate("no-such-message")
