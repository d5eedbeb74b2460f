"""Choosing the provider from settings: the one place `AGENT_PROVIDER` is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netra.agents.builtin_tools import default_tools
from netra.agents.providers.builtin import BuiltinAgent
from netra.agents.providers.local import LocalAgent, default_model_path
from netra.agents.runtime import Agent
from netra.agents.tools import ToolRegistry
from netra.settings import Settings

if TYPE_CHECKING:
    from netra.agents.providers.openai import OpenAIAgent

# llama.cpp's server and most self-hosted ones ignore the key, but the client wants one.
UNUSED_API_KEY = "not-needed"


def create_agent(settings: Settings, tools: ToolRegistry | None = None) -> Agent:
    """The agent `settings.agent_provider` names, with the built-in tools unless given.

    Raises `LocalModelMissing` when AGENT_PROVIDER=local cannot find its model or library.
    """
    registry = tools if tools is not None else default_tools(timeout=settings.tool_timeout)
    if settings.agent_provider == "openai":
        return create_openai_agent(settings, registry)
    if settings.agent_provider == "local":
        path = settings.local_model_path or default_model_path()
        return LocalAgent(path, max_tokens=settings.local_max_tokens)
    return BuiltinAgent(registry)


def create_openai_agent(settings: Settings, tools: ToolRegistry) -> OpenAIAgent:
    # Imported here: the openai package takes most of a second to import, and the
    # event model (netra.client, every `netra` command) lives in this package too.
    from openai import AsyncOpenAI  # noqa: PLC0415

    from netra.agents.providers.openai import OpenAIAgent  # noqa: PLC0415

    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    client = AsyncOpenAI(
        api_key=key or UNUSED_API_KEY,
        base_url=str(settings.openai_base_url) if settings.openai_base_url else None,
        max_retries=settings.openai_max_retries,
        timeout=settings.openai_timeout,
    )
    return OpenAIAgent(
        client, settings.openai_model, tools, max_steps=settings.agent_max_steps, secret=key
    )
