"""Everything the chat routes and the socket share in one process, built at startup."""

from __future__ import annotations

from dataclasses import dataclass, field

from netra.agents.run import started_event
from netra.chat.bus import EventBus, Notice
from netra.chat.errors import (
    BadSeq,
    Draining,
    NoSuchRun,
    NoSuchThread,
    RateLimited,
    RunFinished,
    ServiceTokenRefused,
    TooLong,
)
from netra.chat.eventlog import EventLog
from netra.chat.hub import Hub
from netra.chat.models import Run, Thread
from netra.chat.outbox import Outbox
from netra.chat.runs import FINISHED, RunManager
from netra.chat.search import SearchIndex
from netra.chat.sharing import FeedbackStore, Shares
from netra.chat.store import Posted, ThreadStore
from netra.chat.streams import Streams
from netra.errors import Unavailable
from netra.ratelimit import RateLimiter
from netra.runtime import Runtime
from netra.settings import Settings
from netra.tokens import Principal, TokenRejected
from netra.usage.budgets import QuotaExceeded
from netra.usage.store import Admission, UsageStore


@dataclass(eq=False)
class ChatBackend:
    """The chat domain: every rule a request meets lives in one method here and refuses
    with a netra.chat.errors class; the REST routes and the socket only translate."""

    runtime: Runtime
    events: EventLog
    threads: ThreadStore
    bus: EventBus
    hub: Hub
    runs: RunManager
    limiter: RateLimiter
    streams: Streams
    search: SearchIndex
    shares: Shares
    feedback: FeedbackStore
    usage: UsageStore
    # Open sockets' outboxes, so shutdown can close them with 1012.
    sockets: set[Outbox] = field(default_factory=set)
    authenticating: int = 0
    # Stopping: runs under way finish here, new messages go to another instance.
    draining: bool = False

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def on_notice(self, notice: Notice) -> None:
        if notice.kind == "cancel":
            self.runs.on_notice(notice)
        else:
            self.hub.on_notice(notice)

    async def authenticate(self, token: str | None) -> Principal:
        """The bearer of `token`, through the process's one verifier (netra.tokens)."""
        if not token:
            raise TokenRejected("missing", "missing access token")
        verifier = self.runtime.verifier
        if verifier is None:
            raise Unavailable(
                "token verification is not available yet; retry shortly", retry_after=1.0
            )
        principal = await verifier.verify(token)
        if principal.is_service:
            raise ServiceTokenRefused()
        return principal

    async def own_thread(self, user_id: str, thread_id: str) -> Thread:
        """The user's thread; NoSuchThread whether it is missing or someone else's."""
        thread = await self.threads.get(user_id, thread_id)
        if thread is None:
            raise NoSuchThread(thread_id)
        return thread

    async def own_run(self, user_id: str, run_id: str) -> Run:
        run = await self.threads.run(user_id, run_id)
        if run is None:
            raise NoSuchRun(run_id)
        return run

    async def follow_from(self, user_id: str, thread_id: str, after_seq: int) -> Thread:
        """The user's thread, if `after_seq` is a seq of it (0 up to its last)."""
        thread = await self.own_thread(user_id, thread_id)
        if after_seq < 0 or after_seq > thread.last_seq:
            raise BadSeq(thread.last_seq)
        return thread

    def check_length(self, text: str) -> None:
        limit = self.settings.message_max_chars
        if len(text) > limit:
            raise TooLong(len(text), limit)

    async def check_rate(self, user_id: str) -> None:
        limit = self.settings.chat_rate_limit
        count, resets_in = await self.limiter.count(f"msg:{user_id}", 60.0)
        if count > limit:
            raise RateLimited(round(resets_in, 3), limit)

    async def admit(self, user: Principal) -> Admission:
        """Let one more run of `user` in under their budgets, or raise `QuotaExceeded`
        naming the limit and when it resets."""
        try:
            return await self.usage.admit(user)
        except QuotaExceeded as exc:
            self.runtime.metrics.quota_refusals.labels(exc.limit).inc()
            raise

    def check_accepting(self) -> None:
        if self.draining:  # nothing is stored: the client sends it again elsewhere
            raise Draining()

    async def send_message(
        self, user: Principal, thread_id: str, text: str, client_msg_id: str | None
    ) -> Posted:
        """A user's message, through every rule, then posted (see post_message)."""
        self.check_accepting()
        self.check_length(text)
        await self.check_rate(user.subject)
        admission = await self.admit(user)
        posted = await self.post_message(user.subject, thread_id, text, client_msg_id, admission)
        if posted is None:
            raise NoSuchThread(thread_id)
        return posted

    async def cancel_run(self, user_id: str, run_id: str) -> Run:
        """Ask the user's run to stop; it ends with an `agent_error` (code `cancelled`)."""
        run = await self.own_run(user_id, run_id)
        if run.status in FINISHED:
            raise RunFinished(run.status, run.thread_id)
        await self.runs.cancel(run_id)
        return run

    async def post_message(
        self,
        user_id: str,
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        admission: Admission | None = None,
    ) -> Posted | None:
        """Store the message with its run's `agent_started` and start the run (once per
        client_msg_id); None if the user has no such thread. An `admission` that starts
        no run is given back."""
        agent = self.runs.agent
        posted = await self.threads.post(
            user_id,
            thread_id,
            text,
            client_msg_id,
            started=started_event(agent),
            provider=agent.name,
            instance=self.runtime.instance_id,
            lease_until=self.runs.lease_until(),
        )
        if posted is not None and posted.created:
            self.runs.start(posted, user_id, admission)
        elif admission is not None:
            await self.usage.release(user_id, admission)
        return posted
