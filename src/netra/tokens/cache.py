"""A bounded cache of verified credentials, keyed by the credential itself.

A hit is only served while the credential has not expired; the verifier also checks the
revocation list on every hit, so caching never outlives a revocation.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from netra.tokens.principal import Principal


class VerifiedCache:
    """Least-recently-inserted entries go first once `max_entries` is reached."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        principal, valid_until = entry
        if valid_until <= self._clock():
            self._entries.pop(token, None)
            return None
        return principal

    def put(self, token: str, principal: Principal, valid_until: float) -> None:
        if self._max <= 0:
            return
        self._entries[token] = (principal, valid_until)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)
