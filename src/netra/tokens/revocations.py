"""Revoked sessions and API keys, as the verifier sees them.

The auth service records every revocation in its database. A verifier in the same
process shares the auth component's `RevocationList` (immediate). A verifier in another
process polls `GET /auth/revocations` with its service token every `interval` seconds,
so a revocation reaches it within `interval` + one request (documented in docs/auth.md);
with REDIS_URL set, revocations are also pushed at once over a Redis channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("netra.tokens")


class RevocationList:
    """Ids (session ids, API key ids) that must be refused until `until` (epoch seconds):
    after that every token that could carry them has expired anyway."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self._reasons: dict[str, str] = {}
        self._watchers: list[Callable[[str], None]] = []
        self._clock = clock

    def revoke(self, ident: str, until: float, reason: str | None = None) -> None:
        """Refuse `ident` until `until`; `reason` says why (`account_disabled`, ...).
        Watchers hear of it at once (open streams end: netra.chat.streams)."""
        known = ident in self._until
        self._until[ident] = max(until, self._until.get(ident, 0.0))
        if reason:
            self._reasons[ident] = reason
        if len(self._until) % 1024 == 0:
            self.purge()
        if not known:
            for watcher in list(self._watchers):
                watcher(ident)

    def is_revoked(self, ident: str | None) -> bool:
        return ident is not None and ident in self._until

    def reason(self, ident: str) -> str | None:
        return self._reasons.get(ident)

    def watch(self, watcher: Callable[[str], None]) -> Callable[[], None]:
        """Call `watcher(ident)` for each new revocation; returns how to stop."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def purge(self) -> None:
        now = self._clock()
        for ident in [i for i, until in self._until.items() if until < now]:
            del self._until[ident]
            self._reasons.pop(ident, None)

    def __len__(self) -> int:
        return len(self._until)


TokenProvider = Callable[[], Awaitable[str]]


class RevocationPoller:
    """Keeps a `RevocationList` in step with the auth service by polling."""

    def __init__(
        self,
        revocations: RevocationList,
        url: str,
        http: httpx.AsyncClient,
        service_token: TokenProvider,
        interval: float = 5.0,
    ) -> None:
        self.revocations = revocations
        self.url = url
        self.interval = interval
        self._http = http
        self._service_token = service_token
        self._since: str | None = None
        self.last_success: float | None = None
        self.last_error: str | None = None

    async def poll_once(self) -> int:
        """Fetch revocations since the last poll; returns how many arrived."""
        params = {"since": self._since} if self._since else {}
        headers = {"Authorization": f"Bearer {await self._service_token()}"}
        response = await self._http.get(self.url, params=params, headers=headers, timeout=5.0)
        response.raise_for_status()
        body = response.json()
        for item in body["revoked"]:
            self.revocations.revoke(str(item["id"]), float(item["until"]), item.get("reason"))
        self.revocations.purge()
        self._since = str(body["as_of"])
        self.last_success = time.monotonic()
        self.last_error = None
        return len(body["revoked"])

    async def run(self) -> None:
        """Poll until cancelled; failures are logged and retried at the same pace."""
        while True:
            try:
                await self.poll_once()
            except Exception as exc:  # the poller must outlive any one failure
                self.last_error = f"cannot poll revocations from {self.url}: {exc}"
                log.warning("%s", self.last_error)
            await asyncio.sleep(self.interval)

    def fresh(self) -> bool:
        """Whether the list is known to be at most a few intervals old."""
        if self.last_success is None:
            return False
        return time.monotonic() - self.last_success < 3 * self.interval


def epoch(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp()


REDIS_CHANNEL = "netra:revocations"


class RevocationBroadcast:
    """The auth side: record a revocation in this process and, with Redis, push it to
    every subscribed verifier at once (the poll stays as the backstop)."""

    def __init__(self, revocations: RevocationList, redis: Redis | None = None) -> None:
        self.revocations = revocations
        self.redis = redis

    async def revoke(self, ident: str, until: float, reason: str | None = None) -> None:
        self.revocations.revoke(ident, until, reason)
        if self.redis is None:
            return
        message = {"id": ident, "until": until, "reason": reason}
        try:
            await self.redis.publish(REDIS_CHANNEL, json.dumps(message))
        except RedisError as exc:  # the database has it; polls will carry it
            log.warning("cannot push a revocation through Redis: %s", exc)


async def listen_for_revocations(redis: Redis, revocations: RevocationList) -> None:
    """The backend side: apply pushed revocations until cancelled; reconnects on error."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(REDIS_CHANNEL)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    item = json.loads(message["data"])
                    revocations.revoke(str(item["id"]), float(item["until"]), item.get("reason"))
        except (RedisError, OSError, ValueError, KeyError) as exc:
            log.warning("revocation push from Redis interrupted (%s); resubscribing", exc)
            await asyncio.sleep(1.0)
