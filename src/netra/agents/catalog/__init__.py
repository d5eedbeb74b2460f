"""The models file (`MODELS_FILE`): models, MCP servers and shared assistants, validated
like settings. See docs/agents.md."""

from netra.agents.catalog.build import ModelSet, build_models
from netra.agents.catalog.catalog import Catalog, ModelNotAllowed
from netra.agents.catalog.loader import CatalogError, check_catalog, legacy_catalog, load_catalog
from netra.agents.catalog.schema import AssistantEntry, McpServerEntry, ModelEntry

__all__ = [
    "AssistantEntry",
    "Catalog",
    "CatalogError",
    "McpServerEntry",
    "ModelEntry",
    "ModelNotAllowed",
    "ModelSet",
    "build_models",
    "check_catalog",
    "legacy_catalog",
    "load_catalog",
]
