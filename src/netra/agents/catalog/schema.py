"""The models file's shape (`MODELS_FILE`, TOML): models, MCP servers, shared assistants.

Only the shape of each entry is declared here; what spans entries (unique ids, fallback
chains, secrets that exist) is checked by `netra.agents.catalog.loader`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

# What clients send as `model` and tools are named by: short, URL- and log-safe.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


# An MCP server's name prefixes its tools (`server__tool`), so it cannot hold `__`.
def _no_double_underscore(name: str) -> str:
    if "__" in name:
        raise ValueError("may not contain '__' (it separates server and tool: server__tool)")
    return name


ServerName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"),
    AfterValidator(_no_double_underscore),
]
# A secret is referenced by the setting name it is read under, never given inline.
SecretName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,127}$")]
Role = Annotated[str, StringConstraints(min_length=1, max_length=40)]
DEFAULT_ROLES = ("user", "admin")


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelEntry(_Entry):
    id: Identifier
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    provider: Literal["openai", "local", "builtin"]
    base_url: AnyHttpUrl | None = None
    # The provider's own name for the model (`openai`: sent as `model`).
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    api_key_secret: SecretName | None = None
    # `local`: a GGUF file; unset, the `local-llm` extra's SmolLM2.
    path: str | None = None
    context_window: Annotated[int, Field(ge=256, le=10_000_000)] = 8192
    max_output_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    capabilities: tuple[Literal["tools", "vision", "reasoning"], ...] = ()
    price_in: Annotated[float, Field(ge=0)] | None = None
    price_out: Annotated[float, Field(ge=0)] | None = None
    roles: tuple[Role, ...] = DEFAULT_ROLES
    fallback: Identifier | None = None
    default: bool = False

    @property
    def title(self) -> str:
        return self.label or self.id


class McpServerEntry(_Entry):
    name: ServerName
    transport: Literal["stdio", "streamable_http"]
    # streamable_http
    url: AnyHttpUrl | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    # Header name -> the secret holding its value (an Authorization token, say).
    header_secrets: dict[str, SecretName] = Field(default_factory=dict)
    # stdio
    command: Annotated[str, StringConstraints(min_length=1)] | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    env_secrets: dict[str, SecretName] = Field(default_factory=dict)
    cwd: str | None = None
    tools: tuple[str, ...] = ("*",)
    requires_approval: tuple[str, ...] = ()
    timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0
    roles: tuple[Role, ...] = DEFAULT_ROLES

    def exposes(self, tool: str) -> bool:
        return "*" in self.tools or tool in self.tools

    def needs_approval(self, tool: str) -> bool:
        return "*" in self.requires_approval or tool in self.requires_approval


class AssistantEntry(_Entry):
    id: Identifier
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    instructions: Annotated[str, StringConstraints(max_length=20_000)] = ""
    model: Identifier | None = None
    tools: tuple[str, ...] = ()
    starters: tuple[Annotated[str, StringConstraints(max_length=500)], ...] = ()


class CatalogFile(_Entry):
    models: tuple[ModelEntry, ...] = ()
    mcp_servers: tuple[McpServerEntry, ...] = ()
    assistants: tuple[AssistantEntry, ...] = ()
