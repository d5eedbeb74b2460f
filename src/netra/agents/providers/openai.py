"""Any OpenAI-compatible Chat Completions server (OpenAI, vLLM, Ollama, llama.cpp) through
the official `openai` client: it parses the SSE stream, retries 429/5xx with backoff
(honouring Retry-After) and applies the timeouts; this module runs the tool loop.

Closing the run (cancel, deadline, consumer gone) closes the HTTP stream, which is how a
server learns to stop generating.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from netra.agents.approvals import Decision, Paused, cannot_ask, declined
from netra.agents.events import (
    AgentCompleted,
    AgentEvent,
    AgentStarted,
    AgentThinking,
    ApprovalRequired,
    MessageDelta,
    ToolExecuting,
    Usage,
)
from netra.agents.providers.tool_loop import Progress, Step, Totals
from netra.agents.run import ProviderError
from netra.agents.runtime import ChatTurn, RunContext, build_messages
from netra.agents.toolcalls import ToolCallRequest
from netra.agents.tools import ToolRegistry, parse_arguments

tracer = trace.get_tracer("netra.agents.openai")
SYSTEM_PROMPT = (
    "You are Netra, a helpful assistant in a chat application. Answer briefly. Use the "
    "tools for arithmetic, the current time, searching the user's own messages, "
    "searching the files they uploaded (cite the file name and page of each passage you "
    "use) and summarizing the current thread."
)

log = logging.getLogger(__name__)


class OpenAIAgent:
    """Streams the model's answer and runs its tool calls, at most `max_steps` model calls."""

    name = "openai"

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        tools: ToolRegistry,
        *,
        max_steps: int = 8,
        max_tokens: int | None = None,
        system_prompt: str = SYSTEM_PROMPT,
        include_usage: bool = True,
        request_options: dict[str, Any] | None = None,
        secret: str | None = None,
        vision: bool = False,
    ) -> None:
        self.client = client
        self.model = model
        self.tools = tools
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.system_prompt = system_prompt
        self.include_usage = include_usage
        # Extra request fields (temperature, logit_bias, ...), sent as given.
        self.request_options = dict(request_options or {})
        self._secret = secret
        # The catalog says the model reads images: attached ones go as image parts.
        self.vision = vision

    async def probe(self) -> str:
        """The server answers its model list (one cheap request, no generation)."""
        try:
            await self.client.models.list(timeout=3.0)
        except Exception as exc:  # readiness, for operators: the URL helps them
            raise ProviderError(f"{describe_error(exc)} ({self.client.base_url})") from None
        return f"{self.client.base_url} answers; model {self.model}"

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        yield AgentStarted(provider=self.name, model=self.model)
        prompt = context.system_prompt(self.system_prompt)
        progress = Progress(
            messages=build_messages(
                prompt, history, message, context.attachments, vision=self.vision
            )
        )
        async for event in self._go(progress, context):
            yield event

    async def resume(
        self, checkpoint: dict[str, Any], decision: Decision, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        """Go on from a pause (`checkpoint` from this provider's `Paused`): the waiting
        call runs, or the model is told it was declined, then the loop continues."""
        progress = Progress.restore(checkpoint)
        call = progress.pending[0]
        if decision.approved:
            yield _executing(call)
            outcome = await self.tools.call(call.name, call.arguments, context, call.id)
        else:
            outcome = declined(call.id, call.name or "?", decision.note)
        yield outcome
        progress.answered(outcome)
        async for event in self._go(progress, context):
            yield event

    async def _go(
        self, progress: Progress, context: RunContext
    ) -> AsyncIterator[AgentEvent | Paused]:
        """The tool loop from where `progress` stands: the step's remaining calls, then
        model calls until an answer, at most `max_steps` of them."""
        started = time.perf_counter() - progress.elapsed_ms / 1000
        while True:
            while progress.pending:
                call = progress.pending[0]
                if self.tools.needs_approval(call.name, call.arguments, context):
                    if context.can_pause:
                        progress.elapsed_ms = (time.perf_counter() - started) * 1000
                        yield Paused(_approval(call), progress.checkpoint())
                        return
                    outcome = cannot_ask(call.id, call.name)
                else:
                    yield _executing(call)
                    outcome = await self.tools.call(call.name, call.arguments, context, call.id)
                yield outcome
                progress.answered(outcome)
            if progress.steps >= self.max_steps:
                raise ProviderError(
                    f"The model was still calling tools after {self.max_steps} steps, so "
                    "the run was stopped (AGENT_MAX_STEPS).",
                    code="tool_error",
                )
            step = Step()
            async for delta in self._stream(progress.messages, step, context):
                yield delta
            progress.steps += 1
            progress.totals.add(step)
            progress.answer += step.text
            calls = step.calls.calls()
            if not calls:
                elapsed = (time.perf_counter() - started) * 1000
                usage = progress.totals.usage()
                yield AgentCompleted(text=progress.answer, usage=usage, duration_ms=elapsed)
                return
            if context.meter is not None:  # the run wants to go on: may it?
                await context.meter(step.usage or Totals.counted(step))
            progress.messages.append(
                {
                    "role": "assistant",
                    "content": step.text or None,
                    "tool_calls": [call.message_entry() for call in calls],
                }
            )
            progress.pending = calls

    async def _stream(
        self, messages: list[dict[str, Any]], step: Step, context: RunContext
    ) -> AsyncIterator[MessageDelta | AgentThinking]:
        """One streamed model call: yields answer and reasoning deltas, fills `step`."""
        span = tracer.start_span(
            f"chat {self.model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": self.model,
            },
        )
        try:
            async for delta in self._call(messages, step, span, context):
                yield delta
        except ProviderError as exc:
            span.set_status(StatusCode.ERROR, exc.code)
            raise
        finally:
            if step.usage is not None:
                span.set_attribute("gen_ai.usage.input_tokens", step.usage.input_tokens or 0)
                span.set_attribute("gen_ai.usage.output_tokens", step.usage.output_tokens or 0)
            span.end()

    async def _call(
        self, messages: list[dict[str, Any]], step: Step, span: Span, context: RunContext
    ) -> AsyncIterator[MessageDelta | AgentThinking]:
        try:
            # Current only while the request goes out: its httpx span and `traceparent`
            # header belong to this model call. The header is also set here, not left to
            # the httpx instrumentation alone: the model server's trace must not depend on
            # which instrumentations a process happens to run.
            with trace.use_span(span):
                carrier: dict[str, str] = {}
                propagate.inject(carrier)
                stream = await self.client.chat.completions.create(
                    **self._request(messages, context), extra_headers=carrier or None
                )
        except openai.OpenAIError as exc:
            raise ProviderError(self._describe(exc)) from exc
        try:
            async for chunk in stream:
                step.chunks += 1
                if chunk.usage is not None:
                    step.usage = Usage(
                        input_tokens=chunk.usage.prompt_tokens,
                        output_tokens=chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices:
                    reasoning = _reasoning(choice.delta)
                    if reasoning:
                        yield AgentThinking(text=reasoning)
                    if choice.delta.content:
                        step.text += choice.delta.content
                        step.content_chunks += 1
                        yield MessageDelta(text=choice.delta.content)
                    if choice.delta.tool_calls:
                        step.calls.add(choice.delta.tool_calls)
                    if choice.finish_reason is not None:
                        step.finished = True
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise ProviderError(self._describe(exc, midway=step.chunks > 0)) from exc
        finally:
            await stream.close()
        if not step.finished:
            raise ProviderError(self._unfinished(step))

    def _request(self, messages: list[dict[str, Any]], context: RunContext) -> dict[str, Any]:
        request: dict[str, Any] = {**self.request_options, "model": self.model}
        request.update(messages=messages, stream=True)
        specs = self.tools.openai_specs(context)
        if specs:
            request["tools"] = specs
        if self.include_usage:
            request["stream_options"] = {"include_usage": True}
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        return request

    def _unfinished(self, step: Step) -> str:
        if step.chunks == 0:
            log.warning("the model server at %s sent no completion", self.client.base_url)
            return (
                "The model server sent no completion: is OPENAI_BASE_URL an "
                "OpenAI-compatible API (it usually ends in /v1)?"
            )
        return "The model server ended the stream before the answer was finished."

    def _describe(self, exc: BaseException, *, midway: bool = False) -> str:
        """A reason for the user: what failed and what to check, never the API key, the
        server's URL or the exception's text (those go to the log, for the operator)."""
        log.warning("model server %s: %s", self.client.base_url, scrub(repr(exc), self._secret))
        return describe_error(exc, midway=midway)


BROKE_OFF = "The connection to the model server broke off in the middle of the answer."
# First match wins: the client's exception types, then httpx's (raised mid-stream).
_ERROR_WORDS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    (
        (openai.AuthenticationError, openai.PermissionDeniedError),
        "The model server rejected the credentials ({status}): check OPENAI_API_KEY.",
    ),
    (
        (openai.RateLimitError,),
        "The model server is rate limiting requests (429) and retries ran out.",
    ),
    (
        (openai.NotFoundError,),
        "The model server answered 404: check OPENAI_MODEL and OPENAI_BASE_URL.",
    ),
    ((openai.APIStatusError,), "The model server answered {status} and retries ran out."),
    (
        (openai.APITimeoutError, httpx.TimeoutException),
        "The model server stopped responding (OPENAI_TIMEOUT was reached).",
    ),
    (
        (openai.APIConnectionError, httpx.ConnectError),
        "Could not reach the model server (OPENAI_BASE_URL).",
    ),
    ((httpx.HTTPError,), BROKE_OFF),
    (
        (openai.APIError,),
        "The model server sent a response that is not an OpenAI-compatible completion.",
    ),
)


def describe_error(exc: BaseException, *, midway: bool = False) -> str:
    """User-readable words for the client's and httpx's exceptions: a status at most,
    never their text. `midway`: part of the answer had arrived, so a lost connection
    broke off (the client reports a cut stream as a connection error at times)."""
    cut = isinstance(exc, (openai.APIConnectionError, httpx.TransportError))
    if midway and cut and not isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return BROKE_OFF
    status = getattr(exc, "status_code", "?")
    for types, words in _ERROR_WORDS:
        if isinstance(exc, types):
            return words.format(status=status)
    return f"The model request failed ({type(exc).__name__})."


def scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _reasoning(delta: ChoiceDelta) -> str | None:
    """Reasoning text, which servers send beside `content` under a name of their own
    (`reasoning_content`: vLLM, llama.cpp, DeepSeek; `reasoning`: Ollama, OpenRouter)."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(delta, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _shown(call: ToolCallRequest) -> dict[str, Any]:
    arguments = parse_arguments(call.arguments)
    return arguments if isinstance(arguments, dict) else {"_raw": call.arguments[:2000]}


def _executing(call: ToolCallRequest) -> ToolExecuting:
    return ToolExecuting(call_id=call.id, tool=call.name or "?", arguments=_shown(call))


def _approval(call: ToolCallRequest) -> ApprovalRequired:
    return ApprovalRequired(call_id=call.id, tool=call.name, arguments=_shown(call))
