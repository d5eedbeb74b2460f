"""`deploy/environments.toml`: the one place that says where and how each environment runs.

Loaded and validated like settings: every problem at once, each naming the file and the
key. Setting and secret names are checked against the configuration contract, so a
typo such as `JWT_SECRET_KY` is an error here, not a missing value in production.
"""

from __future__ import annotations

import difflib
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError

from netra.settings.resolver import contract
from netra.settings.spec import Environment, Service

DEFAULT_PATH = Path("deploy/environments.toml")


class TargetKind(StrEnum):
    CLOUDRUN = "cloudrun"
    KUBERNETES = "kubernetes"
    LOCAL = "local"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServicePlan(_Strict):
    """One service in one environment."""

    url: AnyHttpUrl
    internal_url: AnyHttpUrl | None = None
    """How the other service reaches it, when not through `url` (cluster DNS)."""
    settings: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    cpu: str = "1"
    memory: str = "512Mi"
    min_instances: Annotated[int, Field(ge=0)] = 1
    max_instances: Annotated[int, Field(ge=1)] = 10

    @property
    def reach_url(self) -> str:
        return str(self.internal_url or self.url).rstrip("/")


class DatabasePlan(_Strict):
    cloud_sql_instance: str | None = None
    """Instance connection name attached to the services (Cloud Run annotation, or the
    Cloud SQL proxy sidecar on Kubernetes)."""


class DeployEnvironment(_Strict):
    """Everything a deploy of one environment needs, besides the secret values."""

    name: str = ""
    target: TargetKind
    environment: Environment
    image: str = "netra:latest"
    project: str | None = None
    region: str | None = None
    namespace: str = "default"
    kube_context: str | None = None
    service_account: str | None = None
    secrets_dir: Path | None = None
    """Local target: the secret store, one file per secret name."""
    state_dir: Path | None = None
    """Local target: revisions, logs and the nginx configuration."""
    smoke: list[str] = Field(default_factory=list)
    """Gate command; `{auth}` and `{backend}` expand to the URLs under test."""
    database: DatabasePlan = Field(default_factory=DatabasePlan)
    settings: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    services: dict[Service, ServicePlan]

    def plan(self, service: Service) -> ServicePlan:
        return self.services[service]

    def settings_for(self, service: Service) -> dict[str, str]:
        return {**self.settings, **self.plan(service).settings}

    def secrets_for(self, service: Service) -> dict[str, str]:
        return {**self.secrets, **self.plan(service).secrets}


class EnvironmentsError(Exception):
    """The environments file cannot be used; every problem is listed."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{path} has {len(problems)} problem(s):\n{lines}")


def _names(secret: bool) -> dict[str, str]:
    """Every name the contract looks up (any environment) → its setting's display name."""
    names: dict[str, str] = {}
    for field_name, _, spec in contract():
        if spec.secret != secret or field_name == "environment":
            continue
        for environment in Environment:
            for name in spec.lookup_names(field_name, environment):
                names[name] = spec.display_name(field_name)
    return names


def _check_names(where: str, given: dict[str, str], secret: bool) -> list[str]:
    problems = []
    wanted, other = _names(secret), _names(not secret)
    kind, other_table = ("secret", "settings") if secret else ("setting", "secrets")
    for key in given:
        if key in wanted:
            continue
        if key in other:
            problems.append(
                f"{where}.{key}: {key} is a {other_table[:-1]}, not a {kind}; "
                f"move it to the [{other_table}] table"
            )
            continue
        close = difflib.get_close_matches(key, list(wanted), n=1, cutoff=0.7)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{where}.{key}: no {kind} of that name in the contract{hint}")
    return problems


def _table(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _name_problems(name: str, body: dict[str, Any]) -> list[str]:
    """Setting and secret names checked on the raw tables, so they are reported even when
    other keys of the environment are invalid."""
    where = f"environments.{name}"
    problems = _check_names(f"{where}.settings", _table(body, "settings"), secret=False)
    problems += _check_names(f"{where}.secrets", _table(body, "secrets"), secret=True)
    for service, plan in _table(body, "services").items():
        if isinstance(plan, dict):
            problems += _check_names(
                f"{where}.services.{service}.settings", _table(plan, "settings"), False
            )
            problems += _check_names(
                f"{where}.services.{service}.secrets", _table(plan, "secrets"), True
            )
    return problems


def _target_problems(env: DeployEnvironment) -> list[str]:
    where = f"environments.{env.name}"
    missing = sorted(set(Service) - set(env.services))
    problems = [f"{where}.services.{s}: missing (give at least its url)" for s in missing]
    required = {
        TargetKind.CLOUDRUN: ("project", "region"),
        TargetKind.LOCAL: ("secrets_dir", "state_dir"),
    }.get(env.target, ())
    problems += [
        f"{where}.{key}: required for target {env.target.value}"
        for key in required
        if getattr(env, key) is None
    ]
    return problems


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def parse(raw: dict[str, Any], path: Path) -> dict[str, DeployEnvironment]:
    """Validate a parsed file; raise `EnvironmentsError` naming every problem."""
    table = raw.get("environments")
    if not isinstance(table, dict) or not table:
        raise EnvironmentsError(path, ["[environments.NAME] tables: none found"])
    problems: list[str] = []
    found: dict[str, DeployEnvironment] = {}
    unknown_top = sorted(set(raw) - {"environments"})
    problems += [f"{key}: unknown top-level key (only [environments.NAME])" for key in unknown_top]
    base = path.parent.parent if path.parent.name == "deploy" else path.parent
    for name, body in table.items():
        if not isinstance(body, dict):
            problems.append(f"environments.{name}: expected a table")
            continue
        problems += _name_problems(name, body)
        try:
            env = DeployEnvironment.model_validate({**body, "name": name})
        except ValidationError as exc:
            problems += [
                f"environments.{name}.{_location(error['loc'])}: {error['msg']}"
                for error in exc.errors(include_url=False)
            ]
            continue
        problems += _target_problems(env)
        found[name] = _anchor(env, base)
    if problems:
        raise EnvironmentsError(path, problems)
    return found


def _anchor(env: DeployEnvironment, base: Path) -> DeployEnvironment:
    """Relative local paths are relative to the repository holding `deploy/`."""
    update = {
        key: base / value
        for key in ("secrets_dir", "state_dir")
        if isinstance(value := getattr(env, key), Path) and not value.is_absolute()
    }
    return env.model_copy(update=update) if update else env


def load(path: Path = DEFAULT_PATH) -> dict[str, DeployEnvironment]:
    """Every environment of the file, validated."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EnvironmentsError(path, [f"{path} does not exist; pass --file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise EnvironmentsError(path, [f"not valid TOML: {exc}"]) from None
    return parse(raw, path)


def load_environment(name: str, path: Path = DEFAULT_PATH) -> DeployEnvironment:
    environments = load(path)
    if name not in environments:
        close = difflib.get_close_matches(name, list(environments), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        known = ", ".join(sorted(environments))
        raise EnvironmentsError(path, [f"no environment '{name}' (it has: {known}){hint}"])
    return environments[name]
