"""The bus interface and the notice it carries; implementations are chosen by settings."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from netra import jsontext
from netra.chat.envelope import Envelope


@dataclass(frozen=True)
class Notice:
    """`events`: seqs first..last of a thread are committed. `cancel`: stop `run_id`.
    `resync`: the bus may have missed notices; re-read every live thread."""

    kind: Literal["events", "cancel", "resync"]
    origin: str
    thread_id: str = ""
    first_seq: int = 0
    last_seq: int = 0
    run_id: str = ""
    # In-process only: the committed events themselves, so the publishing instance
    # fans out without reading them back. Never serialised.
    envelopes: tuple[Envelope, ...] = ()

    def encode(self) -> str:
        return jsontext.dumps(
            {
                "k": self.kind,
                "o": self.origin,
                "t": self.thread_id,
                "a": self.first_seq,
                "b": self.last_seq,
                "r": self.run_id,
            }
        )

    @classmethod
    def decode(cls, text: str | bytes) -> Notice:
        data = json.loads(text)
        return cls(data["k"], data["o"], data["t"], data["a"], data["b"], data["r"])


Handler = Callable[[Notice], None]


class EventBus(Protocol):
    """Publish notices to every instance (this one included); `handler` receives them."""

    name: str

    async def start(self, handler: Handler) -> None: ...

    async def publish(self, notice: Notice) -> None: ...

    async def publish_many(self, notices: Sequence[Notice]) -> None:
        """`publish` each, in order, in one round trip where the bus has them."""
        ...

    async def ping(self) -> str: ...

    async def close(self) -> None: ...
