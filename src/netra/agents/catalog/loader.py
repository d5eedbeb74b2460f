"""Reading `MODELS_FILE` like settings: every problem at once, each naming its key.

Secrets are referenced by setting name and read through the settings' own sources
(environment, SECRETS_DIR, `.env` in development), so they are found, reported and kept
out of logs exactly like `OPENAI_API_KEY`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from netra.agents.builtin_tools import BUILTIN_TOOL_NAMES
from netra.agents.catalog.catalog import BUILTIN_ASSISTANT, Catalog
from netra.agents.catalog.schema import AssistantEntry, McpServerEntry, ModelEntry
from netra.settings import Problem, SecretLookup, Settings
from netra.settings.sources import SourceError

T = TypeVar("T")
SETTING = "MODELS_FILE"
SECTIONS: Mapping[str, type[BaseModel]] = {
    "models": ModelEntry,
    "mcp_servers": McpServerEntry,
    "assistants": AssistantEntry,
}
# Entries with their position in the file, for the keys problems name.
Indexed = list[tuple[int, T]]
LEGACY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class CatalogError(Exception):
    """The models file cannot be used; `problems` says every reason, each by key."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.sentence() for problem in problems))
        self.problems = problems


def load_catalog(settings: Settings, secrets: SecretLookup | None = None) -> Catalog:
    """The catalog `MODELS_FILE` declares, or the one model today's settings describe.
    Raises `CatalogError` listing every problem."""
    if settings.models_file is None:
        return legacy_catalog(settings)
    lookup = secrets if secrets is not None else SecretLookup()
    problems: list[Problem] = []
    catalog = _read(settings, lookup, problems)
    if problems or catalog is None:
        raise CatalogError(problems)
    return catalog


def check_catalog(settings: Settings) -> list[Problem]:
    """The catalog's problems, for startup's and `netra config check`'s report."""
    try:
        load_catalog(settings)
    except CatalogError as exc:
        return exc.problems
    return []


def legacy_catalog(settings: Settings) -> Catalog:
    """AGENT_PROVIDER and its settings as a one-model catalog (no MODELS_FILE)."""
    provider = settings.agent_provider
    secrets: dict[str, str] = {}
    if provider == "openai":
        name = settings.openai_model
        model_id = name if LEGACY_ID.match(name) else "openai"
        if settings.openai_api_key is not None:
            secrets["OPENAI_API_KEY"] = settings.openai_api_key.get_secret_value()
        entry = ModelEntry(
            id=model_id,
            provider="openai",
            base_url=settings.openai_base_url,
            model=name,
            api_key_secret="OPENAI_API_KEY" if secrets else None,
            capabilities=("tools",),
            # Unknown server: a window as large as today's common models', so history
            # that worked before the catalog is not cut now.
            context_window=128_000,
            # OPENAI_PRICE_*: the one model's price, as a catalog's price_in/price_out.
            price_in=settings.openai_price_input,
            price_out=settings.openai_price_output,
            default=True,
        )
    elif provider == "local":
        entry = ModelEntry(
            id="local",
            label="Local model",
            provider="local",
            path=str(settings.local_model_path) if settings.local_model_path else None,
            context_window=2048,
            max_output_tokens=settings.local_max_tokens,
            default=True,
        )
    else:
        entry = ModelEntry(
            id="builtin",
            label="Builtin planner",
            provider="builtin",
            capabilities=("tools",),
            default=True,
        )
    return Catalog((entry,), secrets=secrets, origin="AGENT_PROVIDER")


def _read(settings: Settings, lookup: SecretLookup, problems: list[Problem]) -> Catalog | None:
    path = settings.models_file
    assert path is not None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(Problem(SETTING, f"cannot read {path}: {exc.strerror or exc}"))
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(Problem(SETTING, f"{path} is not valid TOML: {exc}"))
        return None
    for key in sorted(set(raw) - set(SECTIONS)):
        known = ", ".join(SECTIONS)
        problems.append(Problem(_key(key), f"unknown section; the file declares {known}"))
    sections = {name: _entries(raw, name, model, problems) for name, model in SECTIONS.items()}
    models: Indexed[ModelEntry] = sections["models"]  # type: ignore[assignment]
    servers: Indexed[McpServerEntry] = sections["mcp_servers"]  # type: ignore[assignment]
    assistants: Indexed[AssistantEntry] = sections["assistants"]  # type: ignore[assignment]
    if not models and not problems:
        problems.append(Problem(_key("models"), "declares no model; add at least one [[models]]"))
    problems.extend(_model_problems(models))
    problems.extend(_server_problems(servers))
    problems.extend(_assistant_problems(assistants, models, servers))
    secrets = _secrets(models, servers, lookup, problems)
    return Catalog(
        tuple(entry for _, entry in models),
        tuple(entry for _, entry in servers),
        tuple(entry for _, entry in assistants),
        secrets,
        origin=f"{SETTING} {path}",
    )


def _key(*parts: str | int) -> str:
    """`MODELS_FILE models[1].provider`: the key a problem is about."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{SETTING} {text}"


def _entries(
    raw: Mapping[str, Any], section: str, model: type[BaseModel], problems: list[Problem]
) -> Indexed[BaseModel]:
    """The section's valid entries; each invalid one adds a problem per wrong field (the
    others are still checked against each other)."""
    items = raw.get(section, [])
    if not isinstance(items, list):
        problems.append(Problem(_key(section), f"must be an array of tables ([[{section}]])"))
        return []
    valid: Indexed[BaseModel] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, model.model_validate(item)))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = [part for part in error["loc"] if isinstance(part, str | int)]
                problems.append(Problem(_key(section, index, *where), error["msg"]))
    return valid


def _duplicates(section: str, field: str, values: list[tuple[int, str]]) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, value in values:
        if value in seen:
            yield Problem(_key(section, index, field), f"{value!r} is declared twice")
        seen.add(value)


def _model_problems(models: Indexed[ModelEntry]) -> Iterator[Problem]:
    yield from _duplicates("models", "id", [(index, entry.id) for index, entry in models])
    ids: dict[str, ModelEntry] = {}
    for _, entry in models:
        ids.setdefault(entry.id, entry)
    for index, entry in models:
        if entry.fallback is not None and entry.fallback not in ids:
            yield Problem(
                _key("models", index, "fallback"),
                f"{entry.fallback!r} is not a model of this file; known: {', '.join(ids)}",
            )
        elif entry.fallback is not None:
            loop = _loop(entry, ids)
            if loop:
                yield Problem(
                    _key("models", index, "fallback"),
                    f"falls back in a loop: {' -> '.join(loop)}",
                )
        if entry.provider == "builtin" and entry.base_url is not None:
            yield Problem(_key("models", index, "base_url"), "the builtin provider calls no server")
    defaults = [index for index, entry in models if entry.default]
    for index in defaults[1:]:
        yield Problem(
            _key("models", index, "default"),
            f"models[{defaults[0]}] is the default already; one model may be",
        )


def _loop(entry: ModelEntry, ids: Mapping[str, ModelEntry]) -> list[str]:
    """The fallback chain from `entry` when it comes back to `entry`, else empty."""
    chain = [entry.id]
    current = entry
    while current.fallback is not None and current.fallback in ids:
        chain.append(current.fallback)
        if current.fallback == entry.id:
            return chain
        if chain.count(current.fallback) > 1:
            return []  # a loop further down the chain: reported for its own members
        current = ids[current.fallback]
    return []


def _server_problems(servers: Indexed[McpServerEntry]) -> Iterator[Problem]:
    yield from _duplicates("mcp_servers", "name", [(i, server.name) for i, server in servers])
    for index, server in servers:
        if server.transport == "streamable_http" and server.url is None:
            yield Problem(_key("mcp_servers", index, "url"), "streamable_http needs a url")
        if server.transport == "stdio" and server.command is None:
            yield Problem(_key("mcp_servers", index, "command"), "stdio needs a command")
        for tool in server.requires_approval:
            if tool != "*" and not server.exposes(tool):
                yield Problem(
                    _key("mcp_servers", index, "requires_approval"),
                    f"{tool!r} is not among the exposed tools ({', '.join(server.tools)})",
                )


def _assistant_problems(
    assistants: Indexed[AssistantEntry],
    models: Indexed[ModelEntry],
    servers: Indexed[McpServerEntry],
) -> Iterator[Problem]:
    yield from _duplicates("assistants", "id", [(i, entry.id) for i, entry in assistants])
    model_ids = {entry.id for _, entry in models}
    declared = {server.name: server for _, server in servers}
    for index, entry in assistants:
        if entry.id == BUILTIN_ASSISTANT:
            yield Problem(
                _key("assistants", index, "id"),
                f"{BUILTIN_ASSISTANT!r} is the builtin assistant's id; choose another",
            )
        if entry.model is not None and entry.model not in model_ids:
            known = ", ".join(sorted(model_ids))
            yield Problem(
                _key("assistants", index, "model"),
                f"{entry.model!r} is not a model of this file; known: {known}",
            )
        for tool in entry.tools:
            problem = tool_problem(tool, declared)
            if problem:
                yield Problem(_key("assistants", index, "tools"), problem)


def tool_problem(tool: str, servers: Mapping[str, McpServerEntry]) -> str:
    """Why an assistant cannot be given `tool` (a built-in name, or `server__tool` of a
    declared server that exposes it), or "" when it can."""
    server, separator, name = tool.partition("__")
    if not separator:
        if tool in BUILTIN_TOOL_NAMES:
            return ""
        return f"{tool!r} is not a built-in tool ({', '.join(BUILTIN_TOOL_NAMES)}) nor server__tool"
    entry = servers.get(server)
    if entry is None:
        return f"{tool!r} names the MCP server {server!r}, which is not declared"
    if not name or not entry.exposes(name):
        return f"{tool!r}: the MCP server {server!r} does not expose {name!r}"
    return ""


def _references(
    models: Indexed[ModelEntry], servers: Indexed[McpServerEntry]
) -> Iterator[tuple[str, str]]:
    """(key, secret name) of every secret the file references."""
    for index, model in models:
        if model.api_key_secret:
            yield _key("models", index, "api_key_secret"), model.api_key_secret
    for index, server in servers:
        for header, name in server.header_secrets.items():
            yield _key("mcp_servers", index, "header_secrets", header), name
        for variable, name in server.env_secrets.items():
            yield _key("mcp_servers", index, "env_secrets", variable), name


def _secrets(
    models: Indexed[ModelEntry],
    servers: Indexed[McpServerEntry],
    lookup: SecretLookup,
    problems: list[Problem],
) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, name in _references(models, servers):
        try:
            value = lookup.get(name)
        except SourceError as exc:
            problems.append(Problem(key, f"the secret {name} cannot be read: {exc}"))
            continue
        if value is None:
            problems.append(
                Problem(key, f"the secret {name} is not set", looked=lookup.places(name))
            )
        else:
            found[name] = value
    return found
