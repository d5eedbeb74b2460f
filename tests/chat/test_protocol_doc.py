"""docs/protocol.md against the code: every event type, client message and close code
documented, and every example valid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from netra.agents.events import EVENT_TYPES, parse_event
from netra.chat.ws.protocol import CLIENT_ADAPTER, CLIENT_TYPES, REPLY_TYPES
from netra.close_codes import Close

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
ENVELOPE = {"type", "thread_id", "run_id", "seq", "ts", "payload"}


def examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def test_every_example_is_valid_and_every_type_documented() -> None:
    server_types, client_types = set(), set()
    for example in examples():
        kind = example["type"]
        if kind in EVENT_TYPES:
            assert set(example) == ENVELOPE, example
            assert isinstance(example["seq"], int)
            event = parse_event({"type": kind, **example["payload"]})
            assert event.model_dump(mode="json") == {"type": kind, **example["payload"]}
            server_types.add(kind)
        elif kind in REPLY_TYPES:
            assert set(example) == ENVELOPE, example
            assert example["seq"] is None
            server_types.add(kind)
        else:
            CLIENT_ADAPTER.validate_python(example)
            client_types.add(kind)
    assert server_types == set(EVENT_TYPES) | set(REPLY_TYPES)
    assert client_types == set(CLIENT_TYPES)


def test_every_close_code_is_in_the_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d{4}) \|", text, re.M)}
    assert documented == {int(code) for code in Close}
