"""The approval card in a real browser against `netra up`: a scripted model calls
server-everything's `echo` (marked `requires_approval`); the timeline shows the tool and
its arguments with Approve / Deny, and approving it lets the run finish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from netra.testing import ScriptedModelServer
from tests.support.approvals import models_file, script_echo
from tests.support.mcp import install_servers
from tests.support.web import NetraFactory, Pages, ask, sign_up

pytestmark = pytest.mark.slow


@pytest.fixture
def llm() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer().in_thread() as server:
        yield server


def test_approving_a_tool_call_in_the_timeline_lets_the_run_finish(
    start_netra: NetraFactory, pages: Pages, llm: ScriptedModelServer, tmp_path: Path
) -> None:
    models = models_file(tmp_path, llm.base_url, install_servers())
    netra = start_netra(MODELS_FILE=str(models), OPENAI_MAX_RETRIES="0")
    script_echo(llm, "call_1", "from the browser", "The echo came back.")
    page = pages.new()
    sign_up(page, netra.url, "approver@example.com")
    ask(page, "echo something")
    card = page.get_by_role("group", name="Approval for everything__echo")
    expect(card).to_contain_text("everything__echo")
    expect(card.locator(".kv pre")).to_contain_text("from the browser")
    expect(card).to_contain_text("Waiting for your approval.")
    expect(card.get_by_role("button", name="Deny")).to_be_visible()
    card.get_by_label("Note for the agent").fill("go ahead")
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("Approved: go ahead")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    timeline = page.locator(".turn-agent .timeline").last
    expect(timeline.locator(".step-tool.done")).to_contain_text("Echo: from the browser")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("The echo came back.")
