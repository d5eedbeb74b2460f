"""Tools: typed async functions an agent may call.

A tool's JSON-schema parameters come from its signature (pydantic builds the model), its
arguments are validated before the call, and every call ends in one `ToolCompleted`:
the result, or an error a model or a person can read (bad arguments, unknown tool,
timeout, the tool's own exception). A parameter annotated `RunContext` is filled in by
the runtime and never shown to the model: that is how tools see the asking user's data.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, get_type_hints, overload

from opentelemetry import trace
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic_core import to_jsonable_python

from netra.agents.events import ToolCompleted
from netra.agents.runtime import RunContext
from netra.health.tracing import span_if_tracing

log = logging.getLogger(__name__)
tracer = trace.get_tracer("netra.agents.tools")

ToolFunction = Callable[..., Awaitable[Any]]


class ToolError(Exception):
    """Raised by a tool for a failure the user should read as is."""


class CallableTool(Protocol):
    """Anything the registry can offer a model and call: a `Tool` (an async function of
    this process) or a tool of an MCP server (netra.agents.mcp)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def timeout(self) -> float | None: ...

    @property
    def requires_approval(self) -> bool:
        """Whether a person must approve each call first (netra.agents.approvals)."""
        ...

    def openai_spec(self) -> dict[str, Any]: ...

    def allows(self, context: RunContext) -> bool:
        """Whether this run's user may have the tool at all."""
        ...

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any] | str:
        """The arguments to call with, or the error text for the model."""
        ...

    async def invoke(self, arguments: dict[str, Any], context: RunContext) -> Any: ...


@dataclass(frozen=True)
class Tool:
    """A callable tool: its name, what it is for, its argument model and its time limit."""

    name: str
    description: str
    function: ToolFunction
    arguments: type[BaseModel]
    context_parameter: str | None
    timeout: float | None = None
    requires_approval: bool = False

    def json_schema(self) -> dict[str, Any]:
        """The parameters as JSON schema (what an OpenAI-style `tools` entry carries)."""
        return copy.deepcopy(_parameters(self.arguments))

    def openai_spec(self) -> dict[str, Any]:
        """This tool as an entry of a Chat Completions `tools` list."""
        return openai_spec(self.name, self.description, self.json_schema())

    def allows(self, context: RunContext) -> bool:
        return True

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any] | str:
        try:
            validated = self.arguments.model_validate(arguments)
        except ValidationError as exc:
            return f"Invalid arguments for {self.name}: {_validation_text(exc)}"
        return {field: getattr(validated, field) for field in type(validated).model_fields}

    async def invoke(self, arguments: dict[str, Any], context: RunContext) -> Any:
        if self.context_parameter:
            arguments = {**arguments, self.context_parameter: context}
        return await self.function(**arguments)


@functools.cache
def _parameters(arguments: type[BaseModel]) -> dict[str, Any]:
    """An argument model's JSON schema, made once per model: pydantic builds it anew on
    every call, which was an eighth of a busy backend's CPU (a run offers every tool)."""
    schema = arguments.model_json_schema()
    schema.pop("title", None)
    return schema


def openai_spec(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """An entry of a Chat Completions `tools` list."""
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def make_tool(
    function: ToolFunction, *, name: str | None = None, timeout: float | None = None
) -> Tool:
    """A `Tool` from an async function; the docstring's first paragraph describes it."""
    if not inspect.iscoroutinefunction(function):
        raise TypeError(f"tool {function.__name__} must be an async function")
    hints = get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    context_parameter = None
    for parameter in inspect.signature(function).parameters.values():
        annotation = hints.get(parameter.name, Any)
        if annotation is RunContext:
            context_parameter = parameter.name
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool {function.__name__} cannot take *args or **kwargs")
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    tool_name = name or function.__name__
    model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    description = inspect.cleandoc(function.__doc__ or tool_name).split("\n\n")[0]
    return Tool(tool_name, description, function, model, context_parameter, timeout)


@overload
def tool(function: ToolFunction, /) -> Tool: ...
@overload
def tool(
    *, name: str | None = None, timeout: float | None = None
) -> Callable[[ToolFunction], Tool]: ...
def tool(
    function: ToolFunction | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
) -> Tool | Callable[[ToolFunction], Tool]:
    """Decorator: turn an async function into a `Tool` (register it with a `ToolRegistry`)."""
    if function is not None:
        return make_tool(function)
    return lambda f: make_tool(f, name=name, timeout=timeout)


ToolT = TypeVar("ToolT", bound=CallableTool)


MAX_SPEC_TEXTS = 64  # sets of offered tools whose specs' text a registry keeps


class ToolRegistry:
    """The tools one agent may call, by name, and the one place they are called."""

    def __init__(
        self, tools: Sequence[CallableTool] | None = None, *, default_timeout: float = 10.0
    ) -> None:
        self._tools: dict[str, CallableTool] = {}
        # specs_text's answers by the tools offered (their objects, held: ids stay theirs).
        self._texts: dict[tuple[int, ...], tuple[tuple[CallableTool, ...], str]] = {}
        self.default_timeout = default_timeout
        for item in tools or []:
            self.add(item)

    def add(self, item: ToolT) -> ToolT:
        if item.name in self._tools:
            raise ValueError(f"a tool named {item.name!r} is already registered")
        self._tools[item.name] = item
        return item

    def remove(self, name: str) -> None:
        """Withdraw a tool (its MCP server went away or renamed it); a call to it from
        then on ends in `tool_completed` with an error."""
        self._tools.pop(name, None)

    def tool(self, function: ToolFunction | None = None, /, *, timeout: float | None = None) -> Any:
        """Decorator registering an async function as a tool: `@registry.tool`."""
        if function is not None:
            return self.add(make_tool(function))
        return lambda f: self.add(make_tool(f, timeout=timeout))

    def get(self, name: str) -> CallableTool | None:
        return self._tools.get(name)

    def __iter__(self) -> Iterator[CallableTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def offers(self, item: CallableTool, context: RunContext) -> bool:
        """Whether a run may call `item`: its user may have it and the run's assistant
        was given it."""
        given = context.tools is None or item.name in context.tools
        return given and item.allows(context)

    def offered(self, name: str, context: RunContext) -> CallableTool | None:
        """The tool named `name` if this run may call it."""
        item = self._tools.get(name)
        return item if item is not None and self.offers(item, context) else None

    def openai_specs(self, context: RunContext | None = None) -> list[dict[str, Any]]:
        """The tools as a Chat Completions `tools` list: those `context`'s run may call."""
        return [
            item.openai_spec() for item in self if context is None or self.offers(item, context)
        ]

    def specs_text(self, context: RunContext | None = None) -> str:
        """`openai_specs` as JSON text (what a model's window must hold for them), built
        once per set of offered tools: every run of an agent asks for it."""
        offered = tuple(item for item in self if context is None or self.offers(item, context))
        key = tuple(id(item) for item in offered)
        kept = self._texts.get(key)
        if kept is not None:
            return kept[1]
        if len(self._texts) >= MAX_SPEC_TEXTS:
            self._texts.clear()
        text = json.dumps([item.openai_spec() for item in offered])
        self._texts[key] = (offered, text)
        return text

    def needs_approval(
        self, name: str, arguments: Mapping[str, Any] | str, context: RunContext
    ) -> bool:
        """Whether this call would run a tool marked `requires_approval`: a call that
        fails before running (unknown tool, bad arguments) is answered without asking."""
        prepared = self._prepare(name, arguments, context)
        return not isinstance(prepared, str) and prepared[0].requires_approval

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str,
        context: RunContext,
        call_id: str,
    ) -> ToolCompleted:
        """Validate and run one call; never raises for the tool's or the caller's mistakes."""
        # Name and outcome only: arguments and results may hold the user's text.
        with span_if_tracing(
            tracer,
            f"execute_tool {name}",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name},
        ) as span:
            outcome = await self._call(name, arguments, context, call_id)
            if outcome.error is not None:
                span.set_status(StatusCode.ERROR, "the tool call failed")
            return outcome

    async def _call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str,
        context: RunContext,
        call_id: str,
    ) -> ToolCompleted:
        started = time.perf_counter()

        def done(result: Any = None, error: str | None = None) -> ToolCompleted:
            elapsed = (time.perf_counter() - started) * 1000
            return ToolCompleted(
                call_id=call_id, tool=name, result=result, error=error, duration_ms=elapsed
            )

        prepared = self._prepare(name, arguments, context)
        if isinstance(prepared, str):
            return done(error=prepared)
        item, kwargs = prepared
        timeout = item.timeout if item.timeout is not None else self.default_timeout
        try:
            async with asyncio.timeout(timeout):
                result = await item.invoke(kwargs, context)
        except TimeoutError:
            return done(error=f"The tool {name} took longer than {timeout:g} s and was stopped.")
        except ToolError as exc:
            return done(error=str(exc))
        except Exception as exc:
            log.warning("tool %s failed", name, exc_info=True)
            return done(error=f"The tool {name} failed: {type(exc).__name__}: {exc}")
        return done(result=to_jsonable_python(result, fallback=str))

    def _prepare(
        self, name: str, arguments: Mapping[str, Any] | str, context: RunContext
    ) -> tuple[CallableTool, dict[str, Any]] | str:
        """The tool and its validated keyword arguments, or the error text for the model.
        A tool this user may not have, or the run's assistant was not given, is unknown
        to the run."""
        item = self.offered(name, context)
        if item is None:
            usable = (tool.name for tool in self if self.offers(tool, context))
            known = ", ".join(sorted(usable)) or "none"
            return f"Unknown tool {name!r}; available tools: {known}."
        parsed = parse_arguments(arguments)
        if isinstance(parsed, str):
            return parsed
        validated = item.validate(parsed)
        if isinstance(validated, str):
            return validated
        return item, validated


def parse_arguments(arguments: Mapping[str, Any] | str) -> dict[str, Any] | str:
    """Arguments as a dict, or the error text: models send JSON strings, sometimes broken."""
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        return f"The arguments are not valid JSON ({exc.msg} at position {exc.pos})."
    if not isinstance(value, dict):
        return "The arguments must be a JSON object."
    return value


def _validation_text(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
