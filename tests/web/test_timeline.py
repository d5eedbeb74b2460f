"""The run view in the browser: an end that lands in the same frame as the last delta."""

from __future__ import annotations

import pytest

from netra.testing import NetraProcess
from tests.support.web import Pages

pytestmark = pytest.mark.slow

# A delta asks for a frame to paint the streamed text; the end arrives before that frame.
DELTA_THEN_END = """async (end) => {
  const { RunView } = await import("/static/js/views/timeline.js");
  const view = new RunView("run-1");
  document.body.append(view.el);
  const ts = new Date().toISOString();
  view.apply({ type: "agent_started", ts, payload: {} });
  view.apply({ type: "message_delta", ts, payload: { text: "word00 word01" } });
  view.apply({ type: end.type, ts, payload: end.payload });
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return {
    text: view.answer.textContent,
    streaming: view.answer.classList.contains("streaming"),
    note: view.answer.querySelector(".note")?.textContent ?? null,
    error: view.answer.querySelector(".error")?.textContent ?? null,
    cancelHidden: view.cancelButton.hidden,
  };
}"""


def test_a_cancel_right_after_a_delta_keeps_its_note(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    page.goto(netra.url)
    cancelled = {"code": "cancelled", "reason": "cancelled by the user"}
    end = {"type": "agent_error", "payload": cancelled}
    shown = page.evaluate(DELTA_THEN_END, end)
    assert shown["note"] == "The run was cancelled."
    assert shown["text"].startswith("word00 word01")
    assert shown["streaming"] is False
    assert shown["cancelHidden"] is True


def test_a_failure_right_after_a_delta_keeps_its_error(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    page.goto(netra.url)
    end = {"type": "agent_error", "payload": {"code": "model_error", "reason": "model down"}}
    shown = page.evaluate(DELTA_THEN_END, end)
    assert shown["error"] == "The agent could not answer: model down"
    assert shown["streaming"] is False


def test_a_completion_right_after_a_delta_shows_it(netra: NetraProcess, pages: Pages) -> None:
    page = pages.new()
    page.goto(netra.url)
    end = {"type": "agent_completed", "payload": {"text": "the answer", "duration_ms": 5}}
    shown = page.evaluate(DELTA_THEN_END, end)
    assert shown["text"] == "the answer"
    assert shown["streaming"] is False
