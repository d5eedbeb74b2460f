"""The Markdown renderer in the browser, under the page's CSP: hostile input stays inert."""

from __future__ import annotations

import pytest

from netra.testing import NetraProcess
from tests.support.model_answers import HOSTILE_ANSWER
from tests.support.web import Pages

pytestmark = pytest.mark.slow

RENDER = """async (source) => {
  const { render } = await import("/static/js/markdown.js");
  const box = document.createElement("div");
  box.id = "rendered";
  box.append(render(source));
  document.body.append(box);
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    pwned: window.__pwned ?? null,
    tags: [...box.querySelectorAll("*")].map((el) => el.tagName.toLowerCase()),
    hrefs: [...box.querySelectorAll("a")].map((a) => a.href),
    text: box.textContent,
  };
}"""


def test_hostile_markdown_is_shown_never_run(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(netra.url)
    hostile = HOSTILE_ANSWER + "\n![pixel](https://tracker.example/p.gif)\n**bold** `x<b>`"
    result = page.evaluate(RENDER, hostile)
    assert result["pwned"] is None
    assert dialogs == []
    assert not {"script", "img", "iframe", "b"} & set(result["tags"])
    assert result["hrefs"] == ["https://example.com/", "https://tracker.example/p.gif"]
    assert "<script>window.__pwned = 'script'</script>" in result["text"]
    assert "strong" in result["tags"]
    assert "pre" in result["tags"]
