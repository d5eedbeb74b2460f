"""Everything the chat routes and the socket share in one process, built at startup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from netra.agents.approvals import Decision
from netra.agents.catalog import ModelSet
from netra.agents.run import started_event
from netra.chat.approvals import Answered
from netra.chat.assistants import Assistants
from netra.chat.bus import EventBus, Notice
from netra.chat.choice import Chosen, ModelChoice, stored_assistant
from netra.chat.errors import (
    BadSeq,
    Draining,
    NoSuchMessage,
    NoSuchRun,
    NoSuchThread,
    RateLimited,
    RunActive,
    RunFinished,
    ServiceTokenRefused,
    TooLong,
)
from netra.chat.eventlog import EventLog
from netra.chat.files import FileLibrary
from netra.chat.hub import Hub
from netra.chat.lookups import MessageLookups, ThreadDefaults
from netra.chat.models import Run, Thread
from netra.chat.outbox import Outbox
from netra.chat.run_queue import Arrival
from netra.chat.runs import FINISHED, RunManager
from netra.chat.search import SearchIndex
from netra.chat.sharing import FeedbackStore, Shares
from netra.chat.store import Posted, ThreadStore
from netra.chat.streams import Streams
from netra.chat.tree import SHOWN_LEAF, Shown
from netra.errors import Unavailable
from netra.ratelimit import RateLimiter
from netra.runtime import Runtime
from netra.settings import Settings
from netra.tokens import Principal, TokenRejected
from netra.usage.budgets import Limits, QuotaExceeded
from netra.usage.store import Admission, UsageStore

# How long an interrupting message waits for the run it stops to record its end.
INTERRUPT_WAIT = 10.0
INTERRUPT_ATTEMPTS = 3


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
    files: FileLibrary
    choice: ModelChoice
    lookups: MessageLookups
    # Open sockets' outboxes, so shutdown can close them with 1012.
    sockets: set[Outbox] = field(default_factory=set)
    authenticating: int = 0
    # Stopping: runs under way finish here, new messages go to another instance.
    draining: bool = False

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def models(self) -> ModelSet:
        """The catalog's models and the agents serving them."""
        return self.choice.models

    @property
    def assistants(self) -> Assistants:
        return self.choice.assistants

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

    async def delete_thread(self, user_id: str, thread_id: str) -> None:
        """The thread with everything in it: messages, runs, events and files (their
        bytes first, wherever the file store keeps them)."""
        await self.own_thread(user_id, thread_id)
        await self.files.forget_thread(thread_id)
        if not await self.threads.delete(user_id, thread_id):
            raise NoSuchThread(thread_id)

    def check_length(self, text: str) -> None:
        limit = self.settings.message_max_chars
        if len(text) > limit:
            raise TooLong(len(text), limit)

    async def check_rate(self, user_id: str) -> None:
        limit = self.settings.chat_rate_limit
        count, resets_in = await self.limiter.count(f"msg:{user_id}", 60.0)
        if count > limit:
            raise RateLimited(round(resets_in, 3), limit)

    async def admit(self, user: Principal, limits: Limits | None = None) -> Admission:
        """Let one more run of `user` in under their budgets, or raise `QuotaExceeded`
        naming the limit and when it resets. `limits`: read just now (none apply: no
        write)."""
        try:
            return await self.usage.admit(user, limits)
        except QuotaExceeded as exc:
            self.runtime.metrics.quota_refusals.labels(exc.limit).inc()
            raise

    def check_accepting(self) -> None:
        if self.draining:  # nothing is stored: the client sends it again elsewhere
            raise Draining()

    async def create_thread(
        self, user: Principal, title: str, model: str | None, assistant_id: str | None
    ) -> Thread:
        """A new thread of `user`, with a model and an assistant they may use (None: the
        catalog's default model, the builtin assistant, which is stored as None)."""
        self.choice.check_model(model, user.roles)
        await self.choice.check_assistant(user, assistant_id)
        stored = stored_assistant(assistant_id)
        return await self.threads.create(user.subject, title, model, stored)

    async def send_message(
        self,
        user: Principal,
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        *,
        model: str | None = None,
        interrupt: bool = False,
        file_ids: Sequence[str] = (),
        parent_id: str | Shown | None = SHOWN_LEAF,
    ) -> Posted:
        """A user's message, through every rule, then posted (see post_message). While
        the thread's run is going it is refused (RunActive) unless it asks to
        `interrupt`, which stops that run first. An edit names the edited message's
        parent as `parent_id`: the new message is its sibling. `file_ids`: the
        user's files of this thread it attaches."""
        self.check_accepting()
        self.check_length(text)
        self.choice.check_model(model, user.roles)
        # Runs wait while it is stored: its ack and agent_started come first.
        with self.runs.queue.arrive() as arrival:
            await self.check_rate(user.subject)
            thread, limits = await self.lookups.look_up(user, thread_id)
            if file_ids:
                file_ids = await self.files.attachable(user.subject, thread_id, file_ids)
            # An interrupting message stops the run it finds; one started meanwhile (another
            # tab) is found by the post's own check and stopped too, a few times at most.
            for attempt in range(INTERRUPT_ATTEMPTS):
                if interrupt:
                    for run_id in await self.threads.active_runs(thread_id):
                        await self.runs.stop(
                            run_id, thread_id, "interrupted by a newer message", INTERRUPT_WAIT
                        )
                admission = await self.admit(user, limits)
                try:
                    posted = await self.post_message(
                        user.subject,
                        thread_id,
                        text,
                        client_msg_id,
                        admission,
                        model=model,
                        roles=user.roles,
                        file_ids=file_ids,
                        parent_id=parent_id,
                        thread=thread,
                        arrival=arrival,
                    )
                except RunActive:
                    if not interrupt or attempt == INTERRUPT_ATTEMPTS - 1:
                        raise
                    continue
                if posted is None:
                    raise NoSuchThread(thread_id)
                return posted
            raise AssertionError("unreachable: the last attempt returns or raises")

    async def cancel_run(self, user_id: str, run_id: str) -> Run:
        """Ask the user's run to stop; it ends with an `agent_error` (code `cancelled`)."""
        run = await self.own_run(user_id, run_id)
        if run.status in FINISHED:
            raise RunFinished(run.status, run.thread_id)
        await self.runs.cancel(run_id)
        return run

    async def answer_approval(
        self, user_id: str, run_id: str, call_id: str, decision: Decision
    ) -> Answered:
        """A person's answer to a tool call their run waits on; the run resumes here.
        Someone else's run is not found; a second answer is `AlreadyResolved`."""
        run = await self.own_run(user_id, run_id)
        return await self.runs.approvals.answer(run, call_id, decision)

    async def post_message(
        self,
        user_id: str,
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        admission: Admission | None = None,
        *,
        model: str | None = None,
        roles: Iterable[str] = ("user",),
        file_ids: Sequence[str] = (),
        parent_id: str | Shown | None = SHOWN_LEAF,
        thread: Thread | ThreadDefaults | None = None,
        arrival: Arrival | None = None,
    ) -> Posted | None:
        """Store the message with its run's `agent_started` and start the run (once per
        client_msg_id); None if the user has no such thread. The run uses `model`, else
        the thread's, else the catalog's default; raises `ModelNotAllowed` for a model
        these roles may not use. An `admission` that starts no run is given back.
        `thread`: the user's thread, read just now (else it is read here). `arrival`:
        the message's place among those being stored, left before its run starts."""
        try:
            counted = admission is not None and admission.counted
            stored = await self._post(
                user_id,
                thread_id,
                text,
                client_msg_id,
                model=model,
                roles=roles,
                admitted_on=admission.day if admission is not None and counted else None,
                file_ids=file_ids,
                parent_id=parent_id,
                thread=thread,
            )
        except BaseException:
            if admission is not None:
                await self.usage.release(user_id, admission)
            raise
        if arrival is not None:
            arrival.stored()
        if stored is not None and stored[0].created:
            posted, chosen = stored
            queued = self.runs.start(
                posted, user_id, chosen.agent, roles, admission, preset=chosen.preset
            )
            return replace(posted, queued=queued)
        if admission is not None:
            await self.usage.release(user_id, admission)
        if stored is None:
            return None
        return replace(stored[0], queued=stored[0].run.id in self.runs.queue)

    async def _post(
        self,
        user_id: str,
        thread_id: str,
        text: str,
        client_msg_id: str | None,
        *,
        model: str | None,
        roles: Iterable[str],
        admitted_on: date | None,
        file_ids: Sequence[str] = (),
        parent_id: str | Shown | None,
        thread: Thread | ThreadDefaults | None,
    ) -> tuple[Posted, Chosen] | None:
        chosen = await self._choose(user_id, thread_id, model, roles, thread)
        if chosen is None:
            return None
        posted = await self.threads.post(
            user_id,
            thread_id,
            text,
            client_msg_id,
            started=started_event(chosen.agent),
            provider=chosen.agent.name,
            model=chosen.entry.id,
            instance=self.runtime.instance_id,
            lease_until=self.runs.lease_until(),
            admitted_on=admitted_on,
            parent_id=parent_id,
            file_ids=file_ids,
        )
        return None if posted is None else (posted, chosen)

    async def _choose(
        self,
        user_id: str,
        thread_id: str,
        model: str | None,
        roles: Iterable[str],
        thread: Thread | ThreadDefaults | None = None,
    ) -> Chosen | None:
        """What a run of the thread uses (ModelChoice.for_run); None if the user has no
        such thread. `thread`: read already."""
        if thread is None:
            thread = await self.threads.get(user_id, thread_id)
        if thread is None:
            return None
        return await self.choice.for_run(user_id, thread, model, roles)

    async def regenerate(
        self, user: Principal, message_id: str, *, model: str | None = None
    ) -> Posted:
        """A new run answering the question the answer `message_id` answered; its answer
        becomes a sibling of that one. The same rules as a message, but nothing is
        interrupted: RunActive while the thread's run goes."""
        self.check_accepting()
        self.choice.check_model(model, user.roles)
        await self.check_rate(user.subject)
        answer = await self.threads.answer(user.subject, message_id)
        admission = await self.admit(user)
        try:
            chosen = await self._choose(user.subject, answer.thread_id, model, user.roles)
            if chosen is None:
                raise NoSuchMessage(message_id)
            posted = await self.threads.regenerate(
                user.subject,
                answer,
                started=started_event(chosen.agent),
                provider=chosen.agent.name,
                model=chosen.entry.id,
                instance=self.runtime.instance_id,
                lease_until=self.runs.lease_until(),
                admitted_on=admission.day if admission.counted else None,
            )
        except BaseException:
            await self.usage.release(user.subject, admission)
            raise
        queued = self.runs.start(
            posted, user.subject, chosen.agent, user.roles, admission, preset=chosen.preset
        )
        return replace(posted, queued=queued)
