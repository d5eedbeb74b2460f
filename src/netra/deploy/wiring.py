"""What each service receives, derived from the configuration contract.

Every environment variable and secret reference a deployed service gets comes from
here, so both services get the same names (docs/incidents.md I-4) and a setting the contract
requires cannot be left out (I-3): `wire()` resolves the contract with the values that
will be injected (secrets stood in by placeholders) and refuses on any problem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from netra.db.url import check_database_settings
from netra.deploy.environments import DeployEnvironment, TargetKind
from netra.settings import ConfigReport, Reader, Role, Service, resolve
from netra.settings.resolver import contract
from netra.settings.spec import Environment, Spec

DEFAULT_VERSION = {TargetKind.CLOUDRUN: "latest", TargetKind.KUBERNETES: "value"}


@dataclass(frozen=True)
class SecretRef:
    """A setting read from a secret: `env_name` ← `secret` at `version` (Cloud Run: a
    version number or `latest`; Kubernetes: the key inside the Secret)."""

    env_name: str
    secret: str
    version: str

    @property
    def display(self) -> str:
        return f"{self.secret}:{self.version}"


@dataclass(frozen=True)
class Wiring:
    """One service's injected configuration: plain values and secret references."""

    service: Service
    values: dict[str, str]
    secrets: list[SecretRef]

    def placeholder_environ(self) -> dict[str, str]:
        """The values, with each secret stood in by a non-secret placeholder (as long as a
        strong secret: strength is judged on the real values, at preflight)."""
        stand_ins = {
            ref.env_name: f"placeholder-for-{ref.secret}-"
            + hashlib.sha256(ref.secret.encode()).hexdigest()
            for ref in self.secrets
        }
        return {**self.values, **stand_ins}


class WiringError(Exception):
    def __init__(self, environment: str, who: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"{who} in environment '{environment}' would not start:\n{lines}\n"
            "Fix deploy/environments.toml (its [settings] and [secrets] tables)."
        )


def _index() -> dict[str, tuple[str, Spec]]:
    """Every lookup name of every setting (any environment) → (field name, spec)."""
    found: dict[str, tuple[str, Spec]] = {}
    for field_name, _, spec in contract():
        for environment in Environment:
            for name in spec.lookup_names(field_name, environment):
                found.setdefault(name, (field_name, spec))
    return found


def _reads(reader: Reader, name: str, index: dict[str, tuple[str, Spec]]) -> bool:
    return name in index and reader in index[name][1].services


def parse_secret_ref(env_name: str, raw: str, target: TargetKind) -> SecretRef:
    name, _, version = raw.partition(":")
    return SecretRef(env_name, name, version or DEFAULT_VERSION.get(target, "latest"))


def _derived(env: DeployEnvironment, service: Service) -> dict[str, str]:
    values = {
        "ENVIRONMENT": env.environment.value,
        "PUBLIC_URL": str(env.plan(service).url).rstrip("/"),
    }
    if service is Service.BACKEND:
        values["AUTH_SERVICE_URL"] = env.plan(Service.AUTH).reach_url
    if env.target is TargetKind.LOCAL:
        values["TRUSTED_PROXIES"] = "127.0.0.1"  # its nginx, the only way in
    secrets = env.secrets_for(service)
    if env.database.cloud_sql_instance and "DATABASE_URL" not in secrets:
        values["CLOUD_SQL_INSTANCE"] = env.database.cloud_sql_instance
    return values


def wiring(env: DeployEnvironment, service: Service) -> Wiring:
    """The service's values and secret references, in contract order; not validated."""
    index = _index()

    def relevant(name: str) -> bool:
        return _reads(service, name, index)

    given = {**_derived(env, service), **env.settings_for(service)}
    order = {field_name: position for position, (field_name, _, _) in enumerate(contract())}

    def rank(name: str) -> tuple[int, str]:
        return order[index[name][0]], name

    values = {name: given[name] for name in sorted(filter(relevant, given), key=rank)}
    secrets = [
        parse_secret_ref(name, raw, env.target)
        for name, raw in sorted(env.secrets_for(service).items(), key=lambda kv: rank(kv[0]))
        if relevant(name)
    ]
    return Wiring(service, values, secrets)


def check(
    service: Reader, environ: Mapping[str, str], *, database_check: bool = False
) -> ConfigReport:
    """`netra config check` for this service with exactly `environ` injected."""
    _, report = resolve(
        [service],
        dict(environ),
        cwd=Path("/nonexistent-netra-deploy"),
        checks=(check_database_settings,) if database_check else (),
        persist_generated=False,
    )
    return report


def wire(env: DeployEnvironment, service: Service) -> Wiring:
    """`wiring()`, refused with every problem when the contract would not accept it."""
    result = wiring(env, service)
    report = check(service, result.placeholder_environ())
    if not report.ok:
        raise WiringError(env.name, service, [p.sentence() for p in report.all_problems])
    return result


def for_migration(env_name: str, wired: Wiring) -> Wiring:
    """What the service's migration job receives: of its wiring, only what `netra
    migrate` reads (the database settings; no app secret), refused if that is not enough."""
    index = _index()
    result = Wiring(
        wired.service,
        {k: v for k, v in wired.values.items() if _reads(Role.MIGRATE, k, index)},
        [ref for ref in wired.secrets if _reads(Role.MIGRATE, ref.env_name, index)],
    )
    report = check(Role.MIGRATE, result.placeholder_environ())
    if not report.ok:
        problems = [p.sentence() for p in report.all_problems]
        raise WiringError(env_name, f"{wired.service}'s migration", problems)
    return result
