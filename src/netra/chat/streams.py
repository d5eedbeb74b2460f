"""Every open stream (a `/ws` socket or an SSE stream) of this process, by user.

Two jobs, one registry:
- caps: a user holds at most WS_MAX_PER_USER streams (SSE counts too); the next one is
  refused (`TooManyStreams`: close 1013 / HTTP 429), other users unaffected;
- expiry: a stream opened with an expiring token ends when the token does
  (`token expired`);
- revocation: a stream ends when its credential does. The verifier's `RevocationList`
  tells the registry of each revocation the moment it arrives (at once in the embedded
  process, on the next poll or Redis push when deployed apart), and streams opened with
  an API key are verified again every API_KEY_CACHE_TTL (a key refused by the auth
  service ends them too). A socket closes with 4401 and a reason naming what happened
  (`session revoked`, `api key revoked`, `account disabled`); SSE sends a last
  `event: error` naming it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from netra.chat.errors import TooManyStreams
from netra.tokens import Principal, TokenRejected, Verifier
from netra.tokens.revocations import RevocationList

log = logging.getLogger("netra.chat.streams")

UNAUTHORIZED = 4401
ACCOUNT_GONE = frozenset({"account_disabled", "account_deleted"})


def ending(principal: Principal, why: str | None) -> str:
    """The reason a client is shown when `principal`'s credential was revoked."""
    if why in ACCOUNT_GONE:
        return "account disabled"
    return "api key revoked" if principal.kind == "api_key" else "session revoked"


@dataclass(eq=False, slots=True)
class Stream:
    principal: Principal
    credential: str | None  # kept for API keys only: they are verified again
    end: Callable[[int, str], None]  # code, reason: how this stream is closed
    checked_at: float = field(default_factory=time.monotonic)
    expiry: asyncio.TimerHandle | None = None

    @property
    def ident(self) -> str | None:
        """What a revocation names: the API key's id or the session's."""
        if self.principal.kind == "api_key":
            return self.principal.token_id
        return self.principal.session_id


class Streams:
    def __init__(self, limit: int, key_ttl: float) -> None:
        self.limit = limit
        self.key_ttl = key_ttl
        self.by_user: dict[str, set[Stream]] = {}
        self.by_ident: dict[str, set[Stream]] = {}
        self.revocations: RevocationList | None = None
        self._unwatch: Callable[[], None] | None = None

    def attach(self, revocations: RevocationList | None) -> None:
        """Hear of each revocation as the verifier does."""
        self.revocations = revocations
        if revocations is not None:
            self._unwatch = revocations.watch(self.revoked)

    def detach(self) -> None:
        if self._unwatch is not None:
            self._unwatch()

    def check_room(self, principal: Principal) -> None:
        if len(self.by_user.get(principal.subject, ())) >= self.limit:
            raise TooManyStreams(self.limit)

    def open(
        self, principal: Principal, credential: str | None, end: Callable[[int, str], None]
    ) -> Stream:
        """Register a stream (TooManyStreams past the cap); `close` it when it ends."""
        self.check_room(principal)
        kept = credential if principal.kind == "api_key" else None
        stream = Stream(principal, kept, end)
        if principal.expires_at is not None:
            delay = max(0.0, principal.expires_at.timestamp() - time.time())
            stream.expiry = asyncio.get_running_loop().call_later(
                delay, end, UNAUTHORIZED, "token expired"
            )
        self.by_user.setdefault(principal.subject, set()).add(stream)
        if stream.ident is not None:
            self.by_ident.setdefault(stream.ident, set()).add(stream)
        if self.revocations is not None and self.revocations.is_revoked(stream.ident):
            self.revoked(stream.ident or "")  # revoked while it was being opened
        return stream

    def close(self, stream: Stream) -> None:
        if stream.expiry is not None:
            stream.expiry.cancel()
        for index, key in ((self.by_user, stream.principal.subject), (self.by_ident, stream.ident)):
            if key is None:
                continue
            members = index.get(key)
            if members is not None:
                members.discard(stream)
                if not members:
                    del index[key]

    def revoked(self, ident: str) -> None:
        why = self.revocations.reason(ident) if self.revocations is not None else None
        for stream in list(self.by_ident.get(ident, ())):
            stream.end(UNAUTHORIZED, ending(stream.principal, why))

    async def revalidate(
        self, verifier: Verifier, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Verify again the API keys whose last check is API_KEY_CACHE_TTL old."""
        now = clock()
        due = [
            s
            for members in self.by_user.values()
            for s in members
            if s.credential is not None and now - s.checked_at >= self.key_ttl
        ]
        for stream in due:
            stream.checked_at = now
            assert stream.credential is not None
            try:
                await verifier.verify(stream.credential)
            except TokenRejected as exc:
                if exc.reason == "unavailable":
                    continue  # the auth service is down: not a revocation
                stream.end(UNAUTHORIZED, ending(stream.principal, exc.reason))

    async def run(self, verifier: Callable[[], Verifier | None], every: float = 1.0) -> None:
        """Re-validate API-key streams until cancelled."""
        while True:
            await asyncio.sleep(every)
            current = verifier()
            if current is None:
                continue
            try:
                await self.revalidate(current)
            except Exception:  # one bad round must not stop the loop
                log.exception("re-validating open API-key streams failed; trying again")
