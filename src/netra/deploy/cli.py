"""`netra deploy ...`: build, render, preflight, rollout, rollback, status. Thin over the
engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from netra.deploy.environments import (
    DEFAULT_PATH,
    DeployEnvironment,
    EnvironmentsError,
    TargetKind,
    load,
    load_environment,
)
from netra.deploy.gate import CommandGate, NetraSmoke, SmokeGate
from netra.deploy.image import BuildRequest, ImageError, build, find_builder
from netra.deploy.offline import build_offline
from netra.deploy.preflight import preflight
from netra.deploy.registry import RegistryError, manifest_digest
from netra.deploy.render import cloudrun, kubernetes, to_yaml
from netra.deploy.rollout import Release, Rollout, RolloutReport, rollback
from netra.deploy.runner import Runner
from netra.deploy.targets import target_for
from netra.deploy.wiring import WiringError
from netra.settings import Service

app = typer.Typer(help="Render, check and roll out deployments.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

EnvOption = Annotated[str, typer.Option("--env", help="Environment in the environments file.")]
FileOption = Annotated[Path, typer.Option("--file", help="The environments file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable report.")]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print every API call and command; change nothing.")
]


def _environment(name: str, path: Path) -> DeployEnvironment:
    try:
        return load_environment(name, path)
    except EnvironmentsError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _gate(env: DeployEnvironment) -> SmokeGate:
    """The environments file's `smoke` command, else `netra smoke` in this process."""
    return CommandGate(env.smoke) if env.smoke else NetraSmoke()


@app.command("build")
def build_command(
    env: Annotated[
        str | None, typer.Option("--env", help="Tag the image this environment names.")
    ] = None,
    file: FileOption = DEFAULT_PATH,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag it so (repeatable; instead of --env).")
    ] = None,
    builder: Annotated[
        str | None, typer.Option(help="podman, buildah or docker (default: the first found).")
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            help="No registry in reach: a Debian base (mmdebstrap) and the locked wheels "
            "downloaded here, built with --network=none (podman)."
        ),
    ] = False,
) -> None:
    """Build the image from the root Containerfile; print its digest."""
    tags = list(tag or []) or [_environment(env, file).image if env else "netra:latest"]
    try:
        if offline:
            digest = build_offline(tags)
        else:
            digest = build(find_builder(builder), BuildRequest(tags))
    except ImageError as exc:
        err.print(f"[bold red]Cannot build the image:[/] {exc}")
        raise typer.Exit(1) from None
    err.print(f"[green]built[/] {', '.join(tags)}")
    sys.stdout.write(f"{digest}\n")


@app.command("environments")
def environments(file: FileOption = DEFAULT_PATH) -> None:
    """Validate the environments file and list its environments."""
    try:
        found = load(file)
    except EnvironmentsError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None
    for name, env in found.items():
        out.print(f"{name}: {env.target.value}, ENVIRONMENT={env.environment.value}")


@app.command("render")
def render(
    env: EnvOption,
    service: Annotated[Service | None, typer.Option(help="auth or backend (both).")] = None,
    revision: Annotated[str | None, typer.Option(help="Revision id (content hash).")] = None,
    file: FileOption = DEFAULT_PATH,
) -> None:
    """Print the manifests of an environment: Cloud Run YAML or Kubernetes manifests."""
    environment = _environment(env, file)
    renderers = {TargetKind.CLOUDRUN: cloudrun.render, TargetKind.KUBERNETES: kubernetes.render}
    if environment.target not in renderers:
        err.print(
            f"{env} is a {environment.target.value} target: it has no manifests; "
            f"`netra deploy rollout --env {env} --dry-run` shows what it runs"
        )
        raise typer.Exit(2)
    try:
        manifests = renderers[environment.target](environment, service, revision)
    except WiringError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    sys.stdout.write(to_yaml(manifests))


@app.command("preflight")
def preflight_command(
    env: EnvOption,
    file: FileOption = DEFAULT_PATH,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Check secrets, agreement between services, Cloud SQL and each service's config."""
    report = preflight(_environment(env, file), dry_run=dry_run)
    if as_json:
        _emit(report.to_dict())
    else:
        out.print(report.table())
        sys.stdout.write("".join(f"would call: {call}\n" for call in report.planned_calls))
        out.print(("[green]✓ " if report.ok else "[red]✗ ") + report.summary() + "[/]")
    raise typer.Exit(0 if report.ok else 1)


def _print_rollout(report: RolloutReport, as_json: bool, dry_run: bool) -> None:
    if as_json:
        _emit(report.to_dict())
        return
    if dry_run:
        sys.stdout.write("".join(f"{action}\n" for action in report.actions))
    out.print(report.table())
    failed = report.failed_step
    if failed:
        back = f"; traffic is on {report.live or 'nothing yet'}"
        out.print(f"[red]✗ {failed.name} failed: {failed.detail}{back}[/]")
    elif report.ok:
        out.print(f"[green]✓ {report.revision} serves {report.environment}[/]")


def _digest(env: DeployEnvironment) -> str | None:
    """The image's digest in its registry, for the revision id; None when it cannot be
    had (preflight, the rollout's first step, then says why)."""
    if env.target is TargetKind.LOCAL:
        return None
    try:
        return manifest_digest(env.image)
    except RegistryError:
        return None


@app.command("rollout")
def rollout(
    env: EnvOption,
    file: FileOption = DEFAULT_PATH,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
    revision: Annotated[str | None, typer.Option(help="Override the revision id.")] = None,
) -> None:
    """Preflight, migrate, start with no traffic, smoke, shift, smoke; roll back on failure."""
    environment = _environment(env, file)
    runner = Runner(dry_run=dry_run)
    try:
        release = Release.of(environment, revision, None if dry_run else _digest(environment))
    except WiringError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    engine = Rollout(
        environment,
        target_for(environment, runner),
        _gate(environment),
        lambda: preflight(environment, dry_run=dry_run),
        dry_run,
    )
    report = engine.run(release)
    _print_rollout(report, as_json, dry_run)
    raise typer.Exit(0 if report.ok else 1)


@app.command("rollback")
def rollback_command(
    env: EnvOption,
    file: FileOption = DEFAULT_PATH,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
    to: Annotated[str | None, typer.Option(help="Revision to return to (local: previous).")] = None,
) -> None:
    """Move traffic back to the previous revision, then smoke it."""
    environment = _environment(env, file)
    target = target_for(environment, Runner(dry_run=dry_run))
    previous = to or getattr(target, "previous", lambda: None)()
    if previous is None:
        err.print(f"no previous revision of {env} is known: pass --to REVISION")
        raise typer.Exit(2)
    report = rollback(environment, target, previous, _gate(environment), dry_run)
    _print_rollout(report, as_json, dry_run)
    raise typer.Exit(0 if report.ok else 1)


@app.command("status")
def status(
    env: EnvOption,
    file: FileOption = DEFAULT_PATH,
    as_json: JsonOption = False,
    dry_run: DryRunOption = False,
) -> None:
    """Revisions, which one has the traffic, and their health."""
    environment = _environment(env, file)
    runner = Runner(dry_run=dry_run)
    state = target_for(environment, runner).status()
    if dry_run:
        sys.stdout.write("".join(f"{action}\n" for action in runner.log))
    if as_json:
        _emit(state)
    else:
        out.print_json(data=state)


@app.command("down")
def down(env: EnvOption, file: FileOption = DEFAULT_PATH) -> None:
    """Local target: stop nginx and every revision."""
    environment = _environment(env, file)
    target = target_for(environment, Runner())
    if not hasattr(target, "down"):
        err.print("`down` is for the local target only")
        raise typer.Exit(2)
    target.down()
    out.print(f"stopped {env}")
