"""A bounded cache of verified credentials, keyed by the credential's SHA-256: the cache
holds no bearer secret, and 32 bytes where a JWT is ~600 (one entry per signed-in user,
so one per idle socket: bench/ws_memory.py).

A hit is only served while the credential has not expired; the verifier also checks the
revocation list on every hit, so caching never outlives a revocation.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from netra.tokens.principal import Principal


class VerifiedCache:
    """Least-recently-inserted entries go first once `max_entries` is reached."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    def get(self, token: str) -> Principal | None:
        key = _key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, valid_until = entry
        if valid_until <= self._clock():
            self._entries.pop(key, None)
            return None
        return principal

    def put(self, token: str, principal: Principal, valid_until: float) -> None:
        if self._max <= 0:
            return
        self._entries[_key(token)] = (principal, valid_until)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        self._entries.pop(_key(token), None)

    def __len__(self) -> int:
        return len(self._entries)


def _key(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
