"""Tokens per second of the `local` provider (SmolLM2-135M Q4_1 through llama-cpp-python,
in-process) on this machine, through the same `run_agent` path the backend uses.

Prints model load time, time to first token and decode tokens/s per prompt, and the same
figures for llama-cpp-python called directly as the baseline.
Needs the extra: uv sync --extra local-llm; uv run python bench/local_llm.py [max_tokens]
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

from netra.agents import ChatTurn, MessageHit, RunContext, run_agent
from netra.agents.providers.local import SYSTEM_PROMPT, LocalAgent, default_model_path
from netra.agents.providers.openai import build_messages

PROMPTS = (
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle works.",
    "List ten fruits and describe each in one sentence.",
)


class NoData:
    async def search_messages(self, query: str, limit: int) -> list[MessageHit]:
        return []

    async def thread_history(self) -> list[ChatTurn]:
        return []


@dataclass
class Sample:
    first_token_s: float
    tokens: int
    decode_s: float

    @property
    def rate(self) -> float:
        return (self.tokens - 1) / self.decode_s if self.decode_s > 0 else 0.0


def report(label: str, samples: list[Sample]) -> None:
    tokens = sum(s.tokens - 1 for s in samples)
    seconds = sum(s.decode_s for s in samples)
    for sample in samples:
        print(
            f"  {label:<10} first token {sample.first_token_s * 1000:6.0f} ms   "
            f"{sample.tokens:4d} tokens   {sample.rate:6.1f} tokens/s"
        )
    print(f"  {label:<10} overall decode: {tokens / seconds:6.1f} tokens/s")


async def through_runtime(agent: LocalAgent, prompt: str) -> Sample:
    context = RunContext("u", "t", "r", NoData())
    began = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async for event in run_agent(agent, [], prompt, context, timeout=600):
        if event.type == "message_delta":
            last = time.perf_counter()
            first = first or last
            tokens += 1
    return Sample(first - began, tokens, last - first)


def direct(llama: object, prompt: str, max_tokens: int) -> Sample:
    messages = build_messages(SYSTEM_PROMPT, [], prompt)  # the same prompt netra sends
    began = time.perf_counter()
    first = last = 0.0
    tokens = 0
    for chunk in llama.create_chat_completion(  # type: ignore[attr-defined]
        messages=messages, max_tokens=max_tokens, stream=True
    ):
        if chunk["choices"][0]["delta"].get("content"):
            last = time.perf_counter()
            first = first or last
            tokens += 1
    return Sample(first - began, tokens, last - first)


async def main(max_tokens: int) -> None:
    agent = LocalAgent(default_model_path(), max_tokens=max_tokens)
    began = time.perf_counter()
    llama = await agent.load()
    print(f"model {agent.model_path.name}: loaded in {time.perf_counter() - began:.2f} s")
    await through_runtime(agent, "Hi")  # warm-up
    report("netra", [await through_runtime(agent, prompt) for prompt in PROMPTS])
    report("direct", [direct(llama, prompt, max_tokens) for prompt in PROMPTS])


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
