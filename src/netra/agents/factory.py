"""Choosing the agent from settings: the catalog's default model (MODELS_FILE, or
today's AGENT_PROVIDER settings as a one-model catalog)."""

from __future__ import annotations

from netra.agents.runtime import Agent
from netra.agents.tools import ToolRegistry
from netra.settings import Settings


def create_agent(settings: Settings, tools: ToolRegistry | None = None) -> Agent:
    """The default model's agent, with the built-in tools unless given.

    Raises `CatalogError` for a bad MODELS_FILE and `LocalModelMissing` when the
    default model is `local` and cannot find its model or library.
    """
    from netra.agents.catalog.build import build_models  # noqa: PLC0415 (import cycle)

    return build_models(settings, tools).default
