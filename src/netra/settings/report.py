"""The configuration report: one entry per setting, every problem at once.

Startup failures, `netra config check` and deploy preflight all print this one report.
It never holds a secret's value, only where the value came from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from rich.table import Table
from rich.text import Text


class Status(StrEnum):
    SET = "set"
    DEFAULT = "default"
    GENERATED = "generated"
    UNSET = "unset"
    MISSING = "missing"
    INVALID = "invalid"

    @property
    def is_problem(self) -> bool:
        return self in (Status.MISSING, Status.INVALID)


@dataclass
class Problem:
    """Something a person must fix, named so they can fix it."""

    setting: str
    message: str
    hint: str | None = None
    looked: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        text = f"{self.setting}: {self.message}"
        if self.looked:
            text += f" (looked in: {', '.join(self.looked)})"
        if self.hint:
            text += f"; {self.hint}"
        return text


@dataclass
class Entry:
    name: str
    status: Status
    secret: bool
    required: bool
    source: str | None = None
    value: str | None = None
    looked: list[str] = field(default_factory=list)
    message: str | None = None
    hint: str | None = None

    def problem(self) -> Problem | None:
        if not self.status.is_problem:
            return None
        return Problem(self.name, self.message or self.status.value, self.hint, self.looked)


@dataclass
class ConfigReport:
    environment: str
    services: list[str]
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def all_problems(self) -> list[Problem]:
        from_entries = [p for p in (entry.problem() for entry in self.entries) if p]
        return from_entries + self.problems

    @property
    def ok(self) -> bool:
        return not self.all_problems

    def entry(self, name: str) -> Entry:
        return next(entry for entry in self.entries if entry.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "environment": self.environment,
            "services": self.services,
            "settings": [asdict(entry) for entry in self.entries],
            "problems": [asdict(problem) for problem in self.all_problems],
        }

    def summary(self) -> str:
        """Plain text for stderr and logs: every problem, one per line."""
        scope = f"{'+'.join(self.services) or 'this client'} in {self.environment}"
        problems = self.all_problems
        if not problems:
            return f"Configuration for {scope} is complete."
        lines = [f"Configuration for {scope} has {len(problems)} problem(s):"]
        lines += [f"  - {problem.sentence()}" for problem in problems]
        return "\n".join(lines)

    def table(self) -> Table:
        table = Table(title=f"Netra configuration: {'+'.join(self.services)} in {self.environment}")
        for column in ("setting", "status", "source", "notes"):
            table.add_column(column)
        styles = {
            Status.MISSING: "bold red",
            Status.INVALID: "bold red",
            Status.SET: "green",
            Status.GENERATED: "yellow",
        }
        for entry in self.entries:
            notes = entry.message or ""
            if entry.hint:
                notes = f"{notes}; {entry.hint}" if notes else entry.hint
            if entry.status is Status.MISSING and entry.looked:
                notes = f"{notes} looked in: {', '.join(entry.looked)}"
            source = entry.source or ""
            if entry.value is not None and not entry.secret:
                source = f"{source} = {entry.value}" if source else entry.value
            table.add_row(
                entry.name,
                Text(entry.status.value, styles.get(entry.status, "")),
                source,
                notes.strip(),
            )
        for problem in self.problems:
            table.add_row(
                problem.setting,
                Text("invalid", "bold red"),
                "",
                problem.message + (f"; {problem.hint}" if problem.hint else ""),
            )
        return table


class ConfigurationError(Exception):
    """The configuration cannot work; the report says every reason at once."""

    def __init__(self, report: ConfigReport) -> None:
        super().__init__(report.summary())
        self.report = report
