"""Building the catalog's agents, once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from netra.agents.builtin_tools import default_tools
from netra.agents.catalog.agents import Link, ModelAgent, Notices, UnavailableModel
from netra.agents.catalog.catalog import Catalog
from netra.agents.catalog.loader import load_catalog
from netra.agents.catalog.schema import ModelEntry
from netra.agents.providers.builtin import BuiltinAgent
from netra.agents.providers.local import LocalAgent, LocalModelMissing, default_model_path
from netra.agents.runtime import Agent
from netra.agents.tools import ToolRegistry
from netra.settings import Settings

# llama.cpp's server and most self-hosted ones ignore the key, but the client wants one.
UNUSED_API_KEY = "not-needed"


@dataclass
class ModelSet:
    """The catalog and an agent per model; `agent(None)` is the default model's."""

    catalog: Catalog
    agents: dict[str, Agent]
    # The tools the models share (built-in and MCP), which assistants choose from.
    tools: ToolRegistry = field(default_factory=ToolRegistry)

    @property
    def default(self) -> Agent:
        return self.agents[self.catalog.default.id]

    def agent(self, model_id: str | None = None) -> Agent:
        return self.agents[model_id] if model_id is not None else self.default

    @classmethod
    def single(cls, agent: Agent) -> ModelSet:
        """One given agent as the whole catalog (tests, embedders with their own agent)."""
        model = getattr(agent, "model", None)
        model_id = model if isinstance(model, str) and model else "default"
        entry = ModelEntry(id=model_id, label=agent.name, provider="builtin", default=True)
        tools = getattr(agent, "tools", None)
        registry = tools if isinstance(tools, ToolRegistry) else default_tools()
        return cls(Catalog((entry,)), {model_id: agent}, registry)


def build_models(
    settings: Settings,
    tools: ToolRegistry | None = None,
    catalog: Catalog | None = None,
    notices: Notices = lambda: [],
) -> ModelSet:
    """Every catalog model as a `ModelAgent` with its fallbacks. Raises `CatalogError`
    for a bad MODELS_FILE and `LocalModelMissing` when the default model is a `local`
    one whose model or library is missing (another such model is only unavailable)."""
    catalog = catalog if catalog is not None else load_catalog(settings)
    registry = tools if tools is not None else default_tools(timeout=settings.tool_timeout)
    providers: dict[str, Agent] = {}
    for entry in catalog.models:
        try:
            providers[entry.id] = provider_agent(entry, catalog, settings, registry)
        except LocalModelMissing as exc:
            if entry.id == catalog.default.id:
                raise
            providers[entry.id] = UnavailableModel(entry.provider, str(exc))
    agents: dict[str, Agent] = {}
    for entry in catalog.models:
        chain = catalog.chain(entry.id)
        links = [Link(link, providers[link.id]) for link in chain]
        agents[entry.id] = ModelAgent(links, notices)
    return ModelSet(catalog, agents, registry)


def provider_agent(
    entry: ModelEntry, catalog: Catalog, settings: Settings, tools: ToolRegistry
) -> Agent:
    """The provider behind one catalog entry."""
    usable = tools if "tools" in entry.capabilities else ToolRegistry()
    if entry.provider == "builtin":
        return BuiltinAgent(usable)
    if entry.provider == "local":
        path = Path(entry.path) if entry.path else default_model_path()
        max_tokens = entry.max_output_tokens or settings.local_max_tokens
        return LocalAgent(path, max_tokens=max_tokens, n_ctx=entry.context_window)
    return openai_agent(entry, catalog, settings, usable)


def openai_agent(
    entry: ModelEntry, catalog: Catalog, settings: Settings, tools: ToolRegistry
) -> Agent:
    # Imported here: the openai package takes most of a second to import, and the
    # event model (netra.client, every `netra` command) lives in this package too.
    from openai import AsyncOpenAI  # noqa: PLC0415

    from netra.agents.providers.openai import OpenAIAgent  # noqa: PLC0415

    key = catalog.secret(entry.api_key_secret)
    client = AsyncOpenAI(
        api_key=key or UNUSED_API_KEY,
        base_url=str(entry.base_url) if entry.base_url else None,
        max_retries=settings.openai_max_retries,
        timeout=settings.openai_timeout,
    )
    return OpenAIAgent(
        client,
        entry.model or entry.id,
        tools,
        max_steps=settings.agent_max_steps,
        max_tokens=entry.max_output_tokens,
        secret=key,
    )
