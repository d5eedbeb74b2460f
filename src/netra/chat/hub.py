"""This instance's subscriptions: which connections follow which thread, from which seq.

Every subscription keeps a cursor (the last seq its client has been sent) and only ever
forwards seq == cursor + 1; anything older is a duplicate, anything newer means a gap
that it fills from the event log before following live events again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter

from netra.chat.bus import Notice
from netra.chat.envelope import Envelope
from netra.chat.eventlog import EventLog
from netra.chat.outbox import Outbox
from netra.close_codes import Close
from netra.health.metrics import Metrics

log = logging.getLogger("netra.chat.hub")
Spawn = Callable[[Coroutine[Any, Any, None], str], Any]
PAGE = 500


@dataclass(eq=False)
class Subscription:
    thread_id: str
    cursor: int
    outbox: Outbox
    catching_up: bool = False
    missed: bool = False
    task: asyncio.Task[None] | None = None

    def offer(self, envelope: Envelope, hub: Hub) -> None:
        if self.catching_up:
            self.missed = True
        elif envelope.seq == self.cursor + 1:
            self.cursor = envelope.seq
            self.outbox.push(envelope.frame)
        elif envelope.seq > self.cursor + 1:
            hub.catch_up(self)


@dataclass(eq=False)
class Feed:
    """One thread followed by at least one local subscription."""

    thread_id: str
    seq: int | None = None
    subscriptions: set[Subscription] = field(default_factory=set)
    fetching: bool = False
    dirty: bool = False


class Hub:
    def __init__(self, events: EventLog, spawn: Spawn, metrics: Metrics | None = None) -> None:
        self.events = events
        self.spawn = spawn
        self.feeds: dict[str, Feed] = {}
        self.sent = (metrics if metrics is not None else Metrics()).events_sent
        self._sent_by_type: dict[str, Counter] = {}  # events_sent's child of each type

    def subscribe(
        self, thread_id: str, after_seq: int, outbox: Outbox, *, replay: bool = True
    ) -> Subscription:
        """Follow a thread from `after_seq`: replay from the log, then live.
        `replay=False` skips the first read, for a caller about to publish seq
        after_seq + 1 itself (a new run's first event); should another event have come
        in between, the first later one shows the gap and the log fills it."""
        feed = self.feeds.get(thread_id)
        if feed is None:
            feed = self.feeds[thread_id] = Feed(thread_id)
        subscription = Subscription(thread_id, after_seq, outbox)
        feed.subscriptions.add(subscription)
        if replay:
            self.catch_up(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription.task is not None:
            subscription.task.cancel()
        feed = self.feeds.get(subscription.thread_id)
        if feed is None:
            return
        feed.subscriptions.discard(subscription)
        if not feed.subscriptions:
            del self.feeds[subscription.thread_id]

    def catch_up(self, subscription: Subscription) -> None:
        if subscription.catching_up:
            return
        subscription.catching_up = True
        subscription.task = asyncio.create_task(self._replay(subscription))

    async def _replay(self, subscription: Subscription) -> None:
        try:
            while True:
                subscription.missed = False
                rows = await self.events.read(subscription.thread_id, subscription.cursor, PAGE)
                for envelope in rows:
                    if envelope.seq == subscription.cursor + 1:
                        subscription.cursor = envelope.seq
                        await subscription.outbox.put(envelope.frame)
                        self._count(envelope.type, 1)
                # No await between this test and clearing the flag: a live event either
                # was committed before the read (so it is in `rows`) or set `missed`.
                if len(rows) < PAGE and not subscription.missed:
                    subscription.catching_up = False
                    return
        except Exception:
            log.exception("replay of thread %s failed", subscription.thread_id)
            subscription.outbox.fail(Close.INTERNAL, "could not read the event log; reconnect")
        finally:
            subscription.task = None

    def on_notice(self, notice: Notice) -> None:
        """Bus handler for `events` and `resync` notices."""
        if notice.kind == "resync":
            for each in self.feeds.values():
                if each.seq is not None:
                    self._fetch(each)
            return
        feed = self.feeds.get(notice.thread_id)
        if feed is None:
            return
        if feed.seq is None:
            feed.seq = notice.first_seq - 1
        if notice.last_seq <= feed.seq:
            return
        if notice.envelopes and notice.first_seq == feed.seq + 1 and not feed.fetching:
            self._fan_out(feed, notice.envelopes)
        else:
            self._fetch(feed)

    def _fan_out(self, feed: Feed, envelopes: tuple[Envelope, ...] | list[Envelope]) -> None:
        sent: dict[str, int] = {}  # deliveries by event type, counted once per batch
        for envelope in envelopes:
            if feed.seq is not None and envelope.seq <= feed.seq:
                continue
            feed.seq = envelope.seq
            recipients = tuple(feed.subscriptions)
            for subscription in recipients:
                subscription.offer(envelope, self)
            sent[envelope.type] = sent.get(envelope.type, 0) + len(recipients)
        for kind, count in sent.items():
            self._count(kind, count)

    def _count(self, kind: str, deliveries: int) -> None:
        """`netra_events_sent{type=kind}` += deliveries (the labelled child looked up
        once per type, not per event)."""
        child = self._sent_by_type.get(kind)
        if child is None:
            child = self._sent_by_type[kind] = self.sent.labels(kind)
        child.inc(deliveries)

    def _fetch(self, feed: Feed) -> None:
        feed.dirty = True
        if not feed.fetching:
            feed.fetching = True
            self.spawn(self._fetch_loop(feed), f"fetch-{feed.thread_id}")

    async def _fetch_loop(self, feed: Feed) -> None:
        try:
            while feed.dirty:
                feed.dirty = False
                rows = await self.events.read(feed.thread_id, feed.seq or 0, PAGE)
                self._fan_out(feed, rows)
                if len(rows) == PAGE:
                    feed.dirty = True
        except Exception:
            log.exception("could not read events of thread %s", feed.thread_id)
        finally:
            feed.fetching = False
