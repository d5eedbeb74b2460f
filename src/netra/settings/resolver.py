"""The one resolver: turns sources into `Settings` and a report, for any service set.

This module (with `sources.py`) is the only code that reads the process environment.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from netra.settings.contract import Settings
from netra.settings.generated import GeneratedSecrets
from netra.settings.report import ConfigReport, ConfigurationError, Entry, Problem, Status
from netra.settings.rules import RULES
from netra.settings.sources import (
    DotEnvSource,
    EnvironmentSource,
    Found,
    SecretsDirSource,
    Source,
    SourceError,
)
from netra.settings.spec import Environment, Reader, Spec
from netra.settings.strength import weakness

Check = Callable[[Settings], Iterable[Problem]]
"""A component's own validation of resolved settings (e.g. the database URL builder)."""


def spec_of(info: FieldInfo) -> Spec:
    return next(item for item in info.metadata if isinstance(item, Spec))


def contract() -> list[tuple[str, FieldInfo, Spec]]:
    """Every declared setting: field name, pydantic field, spec."""
    return [(name, info, spec_of(info)) for name, info in Settings.model_fields.items()]


def _known_names(environment: Environment) -> set[str]:
    names: set[str] = {"SECRETS_DIR"}
    for name, _, spec in contract():
        names.update(spec.lookup_names(name, environment))
    return names


def _normalise(key: str) -> str:
    return key.upper().replace("-", "_").replace(".", "_")


def near_namesake(wanted: list[str], sources: list[Source], known: set[str]) -> str | None:
    """A hint naming something set under a name close to one we looked for."""
    for source in sources:
        candidates = {_normalise(key): key for key in source.names() if key not in known}
        for name in wanted:
            close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
            longer = [key for key in candidates if key.startswith(name + "_")]
            for match in close + longer:
                return f"did you mean {candidates[match]} (found in {source.label})?"
    return None


def build_sources(
    environ: Mapping[str, str], environment: Environment, cwd: Path
) -> tuple[list[Source], list[Problem]]:
    """Where settings and secrets are looked up, first match wins: the environment,
    SECRETS_DIR, and `.env` in development."""
    sources: list[Source] = [EnvironmentSource(environ)]
    problems: list[Problem] = []
    secrets_dir = environ.get("SECRETS_DIR")
    if secrets_dir:
        directory = Path(secrets_dir)
        if directory.is_dir():
            sources.append(SecretsDirSource(directory))
        else:
            problems.append(
                Problem(
                    "SECRETS_DIR",
                    f"{directory} is not a directory",
                    hint="mount the secrets volume there or unset it",
                )
            )
    if environment is Environment.DEVELOPMENT:
        sources.append(DotEnvSource(cwd / ".env"))
    return sources, problems


class SecretLookup:
    """Secrets referenced by name outside the contract (the models file's
    `api_key_secret`), found exactly where a secret setting would be."""

    def __init__(self, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        merged = os.environ if environ is None else environ
        raw = merged.get("ENVIRONMENT", Environment.DEVELOPMENT.value).strip().lower()
        environment = Environment(raw) if raw in set(Environment) else Environment.PRODUCTION
        self.sources, _ = build_sources(merged, environment, cwd or Path.cwd())

    def get(self, name: str) -> str | None:
        """The secret's value; None when no source has it. Raises `SourceError` for a
        file that is there but unreadable or empty."""
        for source in self.sources:
            found = source.get(name)
            if found is not None:
                return found.value
        return None

    def places(self, name: str) -> list[str]:
        return [source.place(name) for source in self.sources]


class _Resolution:
    def __init__(
        self,
        services: frozenset[Reader],
        environ: Mapping[str, str],
        cwd: Path,
        persist_generated: bool,
    ) -> None:
        self.services = services
        self.environ = environ
        self.raw: dict[str, Any] = {}
        self.entries: dict[str, Entry] = {}
        self.problems: list[Problem] = []
        self.environment_error: str | None = None
        self.environment = self._environment()
        self.sources = self._sources(cwd)
        self.known = _known_names(self.environment)
        data_dir = Path(
            self._lookup_first(["DATA_DIR"])
            or Settings.model_fields["data_dir"].get_default(call_default_factory=True)
        )
        if not data_dir.is_absolute():
            data_dir = cwd / data_dir
        self.generated = GeneratedSecrets(data_dir / "dev-secrets", persist=persist_generated)

    def _environment(self) -> Environment:
        raw = self.environ.get("ENVIRONMENT", Environment.DEVELOPMENT.value)
        try:
            return Environment(raw.strip().lower())
        except ValueError:
            choices = ", ".join(e.value for e in Environment)
            self.environment_error = (
                f"'{raw}' is not one of {choices}; checking as production, the strictest"
            )
            return Environment.PRODUCTION

    def _sources(self, cwd: Path) -> list[Source]:
        sources, problems = build_sources(self.environ, self.environment, cwd)
        self.problems.extend(problems)
        return sources

    def _lookup_first(self, names: list[str]) -> str | None:
        for name in names:
            found = self.environ.get(name)
            if found is not None:
                return found
        return None

    def resolve_field(self, name: str, info: FieldInfo, spec: Spec) -> None:
        names = spec.lookup_names(name, self.environment)
        relevant = bool(spec.services & self.services)
        entry = Entry(
            name=spec.display_name(name),
            status=Status.UNSET,
            secret=spec.secret,
            required=relevant and self.environment in spec.required_in,
            looked=[source.place(n) for n in names for source in self.sources],
        )
        self.entries[name] = entry
        if name == "environment":
            self.raw[name] = self.environment
            entry.status, entry.value = Status.SET, self.environment.value
            entry.source = (
                "environment variable ENVIRONMENT" if "ENVIRONMENT" in self.environ else "default"
            )
            if self.environment_error:
                entry.status, entry.message = Status.INVALID, self.environment_error
            return
        if spec.prefix is not None:
            self._resolve_family(name, spec.prefix, entry)
            return
        empty: list[str] = []
        try:
            found = self._first(names, spec, empty)
        except SourceError as exc:
            entry.status, entry.source, entry.message = Status.INVALID, exc.where, str(exc)
            return
        if found is not None:
            self._take(name, spec, entry, found, relevant)
            return
        if self.environment in spec.env_defaults:
            self.raw[name] = spec.env_defaults[self.environment]
            entry.status, entry.source = Status.DEFAULT, f"default for {self.environment.value}"
            entry.value = str(self.raw[name])
        elif not info.is_required() and info.get_default(call_default_factory=True) is not None:
            entry.status, entry.source = Status.DEFAULT, "default"
            entry.value = str(info.get_default(call_default_factory=True))
        elif spec.generate is not None and relevant and self.environment.is_local:
            kept_as = names[-1]
            self.raw[name] = self.generated.get_or_create(kept_as, spec.generate)
            entry.status = Status.GENERATED
            entry.source = (
                f"generated for {self.environment.value}, kept in "
                f"{self.generated.directory / kept_as}"
            )
        elif entry.required:
            entry.status = Status.MISSING
            entry.message = f"required by {self._needing(spec)} in {self.environment.value}"
            if empty:
                entry.message += f" ({', '.join(empty)} is set but empty)"
            entry.hint = self._hint(name, spec, names)
        elif relevant:
            entry.hint = self._hint(name, spec, names)

    def _first(self, names: list[str], spec: Spec, empty: list[str]) -> Found | None:
        """The first value found along `names`; an empty secret is a missing one
        (`SERVICE_SECRET=""`), noted in `empty`."""
        for lookup in names:
            for source in self.sources:
                found = source.get(lookup)
                if found is not None and spec.secret and not found.value.strip():
                    empty.append(found.where)
                elif found is not None:
                    return found
        return None

    def _take(self, name: str, spec: Spec, entry: Entry, found: Found, relevant: bool) -> None:
        self.raw[name] = found.value
        entry.status, entry.source = Status.SET, found.where
        entry.value = None if spec.secret else found.value
        # Judged where it is used: a release step (`netra migrate`) given the whole app's
        # environment is not refused for a secret it never reads.
        if spec.strong and relevant and not self.environment.is_local:
            weak = weakness(found.value)
            if weak is not None:
                entry.status, entry.message = Status.INVALID, weak

    def _resolve_family(self, name: str, prefix: str, entry: Entry) -> None:
        family: dict[str, str] = {}
        places: list[str] = []
        for source in self.sources:
            for key in sorted(source.names()):
                if key.startswith(prefix) and key not in self.known and key not in family:
                    try:
                        found = source.get(key)
                    except SourceError as exc:
                        entry.status, entry.source, entry.message = (
                            Status.INVALID,
                            exc.where,
                            str(exc),
                        )
                        return
                    if found is not None:
                        family[key] = found.value
                        places.append(found.where)
        self.known.update(family)
        if family:
            self.raw[name] = family
            entry.status, entry.source = Status.SET, "; ".join(places)

    def _hint(self, name: str, spec: Spec, names: list[str]) -> str | None:
        for other in Environment:
            if other is self.environment:
                continue
            for lookup in set(spec.lookup_names(name, other)) - set(names):
                if any(source.get(lookup) for source in self.sources):
                    return (
                        f"{lookup} is set, but ENVIRONMENT is {self.environment.value}; "
                        f"did you mean {names[0]}?"
                    )
        return near_namesake(names, self.sources, self.known)

    def _needing(self, spec: Spec) -> str:
        return " and ".join(sorted(service.value for service in spec.services & self.services))

    def validate(self) -> tuple[Settings, bool]:
        """The settings, and whether every value was valid. Invalid values fall back to
        their defaults so that the cross-setting rules still run and report too."""
        try:
            return Settings.model_validate(self.raw), True
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = str(error["loc"][0])
                entry = self.entries[field]
                shown = "" if entry.secret else f" (got {error['input']!r})"
                entry.status, entry.message = Status.INVALID, f"{error['msg']}{shown}"
                self.raw.pop(field, None)
        return Settings.model_validate(self.raw), False


def resolve(
    services: Iterable[Reader],
    environ: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    checks: Iterable[Check] = (),
    persist_generated: bool = True,
) -> tuple[Settings | None, ConfigReport]:
    """Resolve the contract for `services`; never raises for bad configuration.

    `environ` defaults to the process environment; `overrides` (command-line flags such
    as `--data-dir`) take precedence over it.
    """
    service_set = frozenset(services)
    merged = {**(os.environ if environ is None else environ), **(overrides or {})}
    state = _Resolution(service_set, merged, cwd or Path.cwd(), persist_generated)
    for name, info, spec in contract():
        state.resolve_field(name, info, spec)
    settings, valid = state.validate()
    # What these services read, and any value that is wrong whoever reads it (it fails
    # validation for everyone: a client, which reads no service's settings, included).
    relevant = [
        state.entries[name]
        for name, _, spec in contract()
        if spec.services & service_set or state.entries[name].status.is_problem
    ]
    report = ConfigReport(
        state.environment.value, sorted(s.value for s in service_set), relevant, state.problems
    )
    if settings.data_dir != settings.data_dir.absolute():
        settings = settings.model_copy(update={"data_dir": (cwd or Path.cwd()) / settings.data_dir})
    for rule in RULES if service_set else ():  # a client has no service's requirements
        report.problems.extend(rule(settings, report, service_set))
    if not valid:
        return None, report
    for check in checks:
        report.problems.extend(check(settings))
    return settings, report


def client_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings as a command-line client reads them (`netra chat`, `netra smoke`): no
    service's requirements apply and nothing is generated."""
    settings, report = resolve([], environ, persist_generated=False)
    if settings is None or not report.ok:
        raise ConfigurationError(report)
    return settings


def load_settings(
    services: Iterable[Reader],
    environ: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    checks: Iterable[Check] = (),
) -> Settings:
    """Resolve and insist: raise `ConfigurationError` listing every problem."""
    settings, report = resolve(services, environ, overrides=overrides, cwd=cwd, checks=checks)
    if settings is None or not report.ok:
        raise ConfigurationError(report)
    return settings
