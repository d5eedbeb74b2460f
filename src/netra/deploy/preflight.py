"""Before anything is deployed: the secrets exist, the services agree, the database
attachment matches, and each service's configuration resolves with what will be injected.

Secret values are fetched only to run the contract's own checks on them; they never
leave this module's locals, and the report holds names and sentences only.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from netra.db.url import DatabaseUrlError, cloud_sql_socket_dir, database_url
from netra.deploy.environments import DeployEnvironment, TargetKind
from netra.deploy.registry import ImageMissing, ImageRef, RegistryError, manifest_digest
from netra.deploy.stores import SecretStore, SecretStoreError, store_for
from netra.deploy.wiring import SecretRef, Wiring, WiringError, check, wire
from netra.settings import Service, Settings, resolve


@dataclass
class Finding:
    check: str
    subject: str
    ok: bool
    message: str
    warning: bool = False  # worth reading, but does not stop a rollout


@dataclass
class PreflightReport:
    environment: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    planned_calls: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.ok]

    def add(self, check: str, subject: str, ok: bool, message: str) -> None:
        self.findings.append(Finding(check, subject, ok, message))

    def warn(self, check: str, subject: str, message: str) -> None:
        self.findings.append(Finding(check, subject, True, message, warning=True))

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.warning]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "environment": self.environment,
            "target": self.target,
            "findings": [asdict(finding) for finding in self.findings],
            "planned_calls": self.planned_calls,
        }

    def summary(self) -> str:
        warnings = [f"  - warning: {w.check} {w.subject}: {w.message}" for w in self.warnings]
        if self.ok:
            passed = f"preflight of {self.environment} passed ({len(self.findings)} checks)"
            return "\n".join([passed, *warnings])
        lines = [f"preflight of {self.environment} found {len(self.problems)} problem(s):"]
        lines += [f"  - {p.check} {p.subject}: {p.message}" for p in self.problems]
        return "\n".join(lines + warnings)

    def table(self) -> Table:
        table = Table(title=f"Netra preflight: {self.environment} ({self.target})")
        for column in ("check", "subject", "result", "details"):
            table.add_column(column)
        for f in self.findings:
            result = Text("FAIL", "bold red") if not f.ok else Text("ok", "green")
            if f.warning:
                result = Text("warn", "yellow")
            table.add_row(f.check, f.subject, result, f.message)
        return table


def _secrets(
    report: PreflightReport, env: DeployEnvironment, store: SecretStore, refs: list[SecretRef]
) -> dict[SecretRef, str] | None:
    """Each reference checked against the store; the values, when every one exists."""
    values: dict[SecretRef, str] = {}
    complete = True
    for ref in refs:
        try:
            lookup = store.lookup(ref, env.environment.value)
            report.add(
                "secret", f"{ref.env_name} ← {ref.display}", lookup.ok, lookup.sentence(store.label)
            )
            if lookup.ok:
                values[ref] = store.read(ref)
            else:
                complete = False
        except SecretStoreError as exc:
            report.add("secret", f"{ref.env_name} ← {ref.display}", False, str(exc))
            complete = False
    return values if complete else None


def _injected(wired: Wiring, values: dict[SecretRef, str]) -> dict[str, str]:
    return {**wired.values, **{ref.env_name: values[ref] for ref in wired.secrets}}


def _settings(service: Service, environ: dict[str, str]) -> Settings | None:
    settings, _ = resolve(
        [service], environ, cwd=Path("/nonexistent-netra-deploy"), persist_generated=False
    )
    return settings


def _digest(settings: Settings) -> str | None:
    if settings.jwt_secret is None:
        return None
    return hashlib.sha256(settings.jwt_secret.get_secret_value().encode()).hexdigest()


def agreement(
    report: PreflightReport, env: DeployEnvironment, auth: Settings, backend: Settings
) -> None:
    """Both services' views of tokens and of each other (docs/incidents.md I-4)."""
    for name in ("jwt_issuer", "jwt_audience", "token_algorithm"):
        a, b = getattr(auth, name), getattr(backend, name)
        message = f"both {a!r}" if a == b else f"auth has {a!r}, backend has {b!r}"
        report.add("agreement", name.upper(), a == b, message)
    plan = env.plan(Service.AUTH)
    reachable = {str(plan.url).rstrip("/"), plan.reach_url}
    told = str(backend.auth_service_url or "").rstrip("/")
    ok = told in reachable
    report.add(
        "agreement",
        "AUTH_SERVICE_URL",
        ok,
        f"backend reaches auth at {told or '(unset)'}"
        if ok
        else f"backend has {told or '(unset)'}, auth serves {' or '.join(sorted(reachable))}",
    )
    jwks = f"{told}/.well-known/jwks.json"
    report.add(
        "agreement",
        "JWKS URL",
        ok,
        f"backend verifies against {jwks}"
        if ok
        else f"{jwks} is not served by the auth service of {env.name}",
    )
    if "HS256" in (auth.token_algorithm, backend.token_algorithm):
        same = _digest(auth) == _digest(backend) and _digest(auth) is not None
        report.add(
            "agreement",
            "shared HS256 secret",
            same,
            "both resolve the same secret"
            if same
            else "the services resolve different (or no) HS256 secrets",
        )


# What each target puts in front of the services (docs/deploy.md, "Proxies").
FRONTS = {
    TargetKind.LOCAL: "nginx on 127.0.0.1",
    TargetKind.CLOUDRUN: "Google's front end",
    TargetKind.KUBERNETES: "the cluster's ingress controller",
}


def proxies(report: PreflightReport, env: DeployEnvironment, auth: Wiring) -> None:
    """A proxy in front and no TRUSTED_PROXIES: every client shares the proxy's address,
    so one client's sign-in attempts use up everyone's per-address limit."""
    trusted = auth.values.get("TRUSTED_PROXIES", "").strip()
    if trusted:
        report.add("proxies", "TRUSTED_PROXIES", True, f"X-Forwarded-For believed from {trusted}")
        return
    report.warn(
        "proxies",
        "TRUSTED_PROXIES",
        f"the {env.target.value} target puts {FRONTS[env.target]} in front of the services "
        "and TRUSTED_PROXIES is empty: every client will share its address in the "
        "per-address sign-in limits; set it in [environments."
        f"{env.name}.services.auth.settings] (docs/deploy.md, 'Proxies')",
    )


def attachment(
    report: PreflightReport, env: DeployEnvironment, service: Service, settings: Settings
) -> None:
    """The Cloud SQL instance attached to the service is the one its URL connects through."""
    attached = env.database.cloud_sql_instance
    try:
        socket = cloud_sql_socket_dir(database_url(settings))
    except DatabaseUrlError as exc:
        report.add("cloud sql", service.value, False, f"DATABASE_URL {exc}")
        return
    if socket is None and attached is None:
        return
    if socket is None:
        report.add(
            "cloud sql",
            service.value,
            False,
            f"{attached} is attached but the database URL does not use its socket",
        )
    elif attached is None:
        report.add(
            "cloud sql",
            service.value,
            False,
            f"the database URL connects through {socket}, but no instance is attached: "
            f"set [environments.{env.name}.database] cloud_sql_instance",
        )
    else:
        ok = socket.name == attached
        report.add(
            "cloud sql",
            service.value,
            ok,
            f"socket {socket} matches the attached instance"
            if ok
            else f"the database URL uses {socket}, but {attached} is attached",
        )


def image(report: PreflightReport, env: DeployEnvironment) -> None:
    """The image the revision will run is in the target's registry (a tag never pushed
    would fail only once the first instance tries to pull it)."""
    try:
        digest = manifest_digest(env.image)
    except ImageMissing as exc:
        report.add(
            "image",
            env.image,
            False,
            f"{exc}: build it (`netra deploy build --env {env.name}`) and push it first",
        )
    except RegistryError as exc:
        report.add("image", env.image, False, str(exc))
    else:
        report.add("image", env.image, True, f"in {ImageRef.parse(env.image).registry} ({digest})")


def preflight(
    env: DeployEnvironment, *, store: SecretStore | None = None, dry_run: bool = False
) -> PreflightReport:
    """Every check, every problem at once."""
    report = PreflightReport(env.name, env.target.value)
    if env.target is not TargetKind.LOCAL:  # the local target runs this checkout
        if dry_run:
            report.planned_calls.append(f"HEAD {ImageRef.parse(env.image).manifest_url}")
        else:
            image(report, env)
    wired: dict[Service, Wiring] = {}
    for service in Service:
        try:
            wired[service] = wire(env, service)
            report.add("contract", service.value, True, "every required setting is wired")
        except WiringError as exc:
            for problem in exc.problems:
                report.add("contract", service.value, False, problem)
    if len(wired) < len(Service):
        return report
    proxies(report, env, wired[Service.AUTH])
    refs = list(dict.fromkeys(ref for w in wired.values() for ref in w.secrets))
    store = store or store_for(env)
    if dry_run:
        report.planned_calls += [call for ref in refs for call in store.planned_calls(ref)]
        return report
    values = _secrets(report, env, store, refs)
    if values is None:
        report.add("config check", "auth, backend", False, "skipped until every secret exists")
        return report
    resolved: dict[Service, Settings] = {}
    for service, w in wired.items():
        environ = _injected(w, values)
        config = check(service, environ, database_check=True)
        problems = [p.sentence() for p in config.all_problems]
        report.add(
            "config check",
            service.value,
            config.ok,
            "passes with the injected values" if config.ok else "; ".join(problems),
        )
        settings = _settings(service, environ)
        if settings is not None:
            resolved[service] = settings
            attachment(report, env, service, settings)
    if len(resolved) == len(Service):
        agreement(report, env, resolved[Service.AUTH], resolved[Service.BACKEND])
    return report
