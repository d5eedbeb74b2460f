"""A tiny OpenAI-compatible server whose answers the browser tests choose: slow (to
reload or restart mid-run) or hostile (HTML and javascript: links in model output)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SLOW_WORDS = [f"word{i:02d}" for i in range(30)]
SLOW_ANSWER = " ".join(SLOW_WORDS) + " done."
HOSTILE_ANSWER = (
    "Here you go:\n\n<script>window.__pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.__pwned = \'img\'">\n\n'
    "[click me](javascript:window.__pwned='link') and "
    "[safe](https://example.com)\n\n"
    "```html\n<script>alert(1)</script>\n```\n"
)


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"role": "assistant", "content": content}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _pieces(prompt: str) -> Iterator[tuple[str, float]]:
    if "slow" in prompt:
        for word in [*SLOW_WORDS[:-1], SLOW_WORDS[-1] + " done."]:
            yield (word if word.startswith("word00") else " " + word), 0.25
    elif "hostile" in prompt:
        yield HOSTILE_ANSWER, 0.0
    else:
        yield "Quick answer.", 0.0


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        """The model list: what Netra's readiness asks an OpenAI-compatible server."""
        body = json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]})
        self.send_response(200 if self.path.rstrip("/").endswith("/models") else 404)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        users = [m for m in request.get("messages", []) if m.get("role") == "user"]
        prompt = str(users[-1].get("content", "")) if users else ""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        try:
            for text, pause in _pieces(prompt):
                time.sleep(pause)
                self.wfile.write(_chunk(text))
                self.wfile.flush()
            self.wfile.write(_chunk(None, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return


class FakeLLM:
    """`with FakeLLM() as llm: llm.base_url` (http://127.0.0.1:PORT/v1)."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
