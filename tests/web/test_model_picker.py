"""The composer's model picker in a real browser against `netra up` with a models file:
a new chat starts with the picked model, the choice is the thread's (kept on reload),
and changing it changes who answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.web import NetraFactory, Pages, ask, sign_up

pytestmark = pytest.mark.slow

CATALOG = """
[[models]]
id = "tools"
label = "With tools"
provider = "builtin"
capabilities = ["tools"]
default = true

[[models]]
id = "plain"
label = "Plain"
provider = "builtin"
"""


def test_the_picked_model_is_the_threads_and_answers(
    start_netra: NetraFactory, pages: Pages, tmp_path: Path
) -> None:
    path = tmp_path / "models.toml"
    path.write_text(CATALOG, encoding="utf-8")
    netra = start_netra(MODELS_FILE=str(path))
    page = pages.new()
    sign_up(page, netra.url, "picker@example.com")
    picker = page.get_by_label("Model")
    expect(picker).to_have_value("tools")
    expect(picker.locator("option")).to_have_text(["With tools (default)", "Plain"])
    picker.select_option("plain")
    ask(page, "what is 17 * 23?")
    answer = page.locator(".turn-agent .answer").last
    expect(answer).to_contain_text("built-in assistant")  # no tools: no calculator
    page.reload()
    expect(page.get_by_label("Model")).to_have_value("plain")
    page.get_by_label("Model").select_option("tools")
    expect(page.locator(".live-status")).not_to_contain_text("Model not changed")
    page.reload()
    expect(page.get_by_label("Model")).to_have_value("tools")
    ask(page, "what is 17 * 23?")
    expect(page.locator(".turn-agent .answer").last).to_contain_text("391")
