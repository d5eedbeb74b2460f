"""A scripted model that answers by the prompt, for tests of Netra as a whole (browser,
draining): `slow` streams SLOW_ANSWER over ~8 s (time to reload or restart mid-run),
`hostile` answers HTML and javascript: links, anything else a quick answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from netra.testing import ScriptedModelServer, chunk
from netra.testing.model_server import last_user_message

SLOW_WORDS = [f"word{i:02d}" for i in range(30)]
SLOW_ANSWER = " ".join(SLOW_WORDS) + " done."
HOSTILE_ANSWER = (
    "Here you go:\n\n<script>window.__pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.__pwned = \'img\'">\n\n'
    "[click me](javascript:window.__pwned='link') and "
    "[safe](https://example.com)\n\n"
    "```html\n<script>alert(1)</script>\n```\n"
)


def prompted_model() -> ScriptedModelServer:
    """`with prompted_model().in_thread() as llm: llm.base_url`."""
    server = ScriptedModelServer()

    async def answer(request: Request) -> Response:
        prompt = last_user_message(await request.json())
        if "slow" in prompt:
            pieces = [SLOW_WORDS[0], *(f" {w}" for w in SLOW_WORDS[1:-1])]
            pieces.append(f" {SLOW_WORDS[-1]} done.")
            reply = server.sse([*map(chunk, pieces), chunk(finish="stop")], pause=0.25)
        else:
            text = HOSTILE_ANSWER if "hostile" in prompt else "Quick answer."
            reply = server.sse([chunk(text), chunk(finish="stop")])
        return await reply(request)

    server.default = answer
    return server
