"""An MCP server's tools as registry tools (`server__tool`), and their results as what the
model reads: text as is, other content summarised, errors as `tool_completed` errors."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from mcp import types

from netra.agents.runtime import RunContext
from netra.agents.tools import ToolError, openai_spec

# What a Chat Completions function name may be.
MODEL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Longest text a model gets from one call; the rest is cut with a note saying so.
MAX_RESULT_CHARS = 64_000
MAX_DESCRIPTION_CHARS = 1024

Caller = Callable[[str, dict[str, Any], float], Awaitable[types.CallToolResult]]


def model_name(server: str, tool: str) -> str:
    return f"{server}__{tool}"


def server_of(name: str) -> str | None:
    """The MCP server a registry tool comes from (its name's prefix, which cannot hold
    `__`), None for Netra's own tools."""
    server, separator, _ = name.partition("__")
    return server if separator and server else None


class RejectedTool(ValueError):
    """An MCP tool Netra will not offer a model; the message says why."""


@dataclass(frozen=True)
class McpTool:
    """One tool of one MCP server, as the registry calls it."""

    name: str
    server: str
    remote_name: str
    description: str
    schema: dict[str, Any]
    timeout: float | None
    requires_approval: bool
    roles: tuple[str, ...]
    call: Caller = field(repr=False)
    validator: jsonschema.protocols.Validator = field(repr=False)

    @classmethod
    def build(
        cls,
        server: str,
        listed: types.Tool,
        *,
        timeout: float,
        requires_approval: bool,
        roles: tuple[str, ...],
        call: Caller,
    ) -> McpTool:
        """Raises `RejectedTool` for a name a model cannot use or a schema that is not
        valid JSON Schema (the server's word cannot be checked against it)."""
        name = model_name(server, listed.name)
        if not MODEL_NAME.match(name):
            raise RejectedTool(
                f"{name!r} is not a function name models accept "
                "(letters, digits, '_' and '-', at most 64)"
            )
        schema = dict(listed.input_schema)
        try:
            validator_class = validator_for(schema)
            validator_class.check_schema(schema)
        except SchemaError as exc:
            reason = f"{name}: its input schema is not valid JSON Schema ({exc.message})"
            raise RejectedTool(reason) from None
        if schema.get("type", "object") != "object":
            raise RejectedTool(f"{name}: its input schema does not describe an object")
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        description = (listed.description or listed.title or listed.name)[:MAX_DESCRIPTION_CHARS]
        return cls(
            name=name,
            server=server,
            remote_name=listed.name,
            description=description,
            schema=schema,
            timeout=timeout,
            requires_approval=requires_approval,
            roles=roles,
            call=call,
            validator=validator_class(schema),
        )

    def openai_spec(self) -> dict[str, Any]:
        return openai_spec(self.name, self.description, self.schema)

    def allows(self, context: RunContext) -> bool:
        """The server's `roles`: only their holders' runs are offered its tools."""
        return not context.roles.isdisjoint(self.roles)

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any] | str:
        errors = sorted(self.validator.iter_errors(arguments), key=lambda e: list(e.path))
        if not errors:
            return arguments
        parts = []
        for error in errors[:5]:
            where = ".".join(str(part) for part in error.path) or "arguments"
            parts.append(f"{where}: {error.message[:200]}")
        return f"Invalid arguments for {self.name}: {'; '.join(parts)}"

    async def invoke(self, arguments: dict[str, Any], context: RunContext) -> Any:
        result = await self.call(self.remote_name, arguments, self.timeout or 0)
        text = result_text(result)
        if result.is_error:
            raise ToolError(text or f"The tool {self.name} reported an error.")
        return text


def result_text(result: types.CallToolResult) -> str:
    """The result as the model reads it: text blocks joined, other content described,
    the structured result when there is no text; cut at MAX_RESULT_CHARS."""
    parts = [_block_text(block) for block in result.content]
    if not any(parts) and result.structured_content is not None:
        parts = [jsonable_text(result.structured_content)]
    return truncate("\n".join(part for part in parts if part))


def _block_text(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        size = len(block.data) * 3 // 4  # base64
        return f"[{kind} {block.mime_type}, about {size} bytes, not shown to the model]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}{f' ({block.mime_type})' if block.mime_type else ''}]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return resource.text
        return f"[resource {resource.uri} ({resource.mime_type or 'binary'}), not shown]"
    return f"[{getattr(block, 'type', 'unknown')} content, not shown]"


def jsonable_text(value: Any) -> str:
    return json.dumps(value, default=str)


def truncate(text: str) -> str:
    if len(text) <= MAX_RESULT_CHARS:
        return text
    return (
        text[:MAX_RESULT_CHARS]
        + f"\n[cut: the result was {len(text):,} characters, the first {MAX_RESULT_CHARS:,} shown]"
    )
