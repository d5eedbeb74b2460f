"""Reassembling streamed tool calls.

Chat Completions streams a tool call in pieces: the first delta of each `index` carries
the call id and function name, later ones append fragments of the JSON arguments. Servers
differ (llama.cpp sends a whole call at once, OpenAI splits arguments over many chunks,
some repeat the id on every chunk, some omit `index`); this joins all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall


@dataclass
class ToolCallRequest:
    """One complete tool call as the model asked for it; `arguments` is raw JSON text."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""

    def message_entry(self) -> dict[str, Any]:
        """This call as the assistant message's `tool_calls` entry sent back to the model."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class ToolCallAccumulator:
    """Feed it every delta's `tool_calls`; read `calls()` when the stream has ended."""

    _calls: dict[int, ToolCallRequest] = field(default_factory=dict)

    def add(self, deltas: Iterable[ChoiceDeltaToolCall]) -> None:
        for position, delta in enumerate(deltas):
            index = delta.index if delta.index is not None else position
            call = self._calls.setdefault(index, ToolCallRequest(index=index))
            if delta.id and not call.id:
                call.id = delta.id
            function = delta.function
            if function is None:
                continue
            if function.name:
                # Some servers repeat the name on every chunk; others send it once.
                if not call.name:
                    call.name = function.name
                elif function.name != call.name:
                    call.name += function.name
            if function.arguments:
                call.arguments += function.arguments

    def calls(self) -> list[ToolCallRequest]:
        """The calls in index order, each with an id (generated when the server sent none)."""
        ordered = [self._calls[index] for index in sorted(self._calls)]
        for call in ordered:
            if not call.id:
                call.id = f"call_{uuid.uuid4().hex[:24]}"
        return ordered

    def __bool__(self) -> bool:
        return bool(self._calls)
