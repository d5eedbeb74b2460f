"""`netra ...`: thin commands over the packages; configuration errors are reports, not
tracebacks."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from fastapi import FastAPI
from rich.console import Console

from netra import db
from netra.agents.catalog import check_catalog
from netra.auth import cli as auth_cli
from netra.auth.oidc.config import check_oidc_settings
from netra.chat.cli import chat_app
from netra.console import client_settings_or_exit, refuse
from netra.db import migrations
from netra.db.url import check_database_settings
from netra.deploy.cli import app as deploy_app
from netra.logs import configure_logging
from netra.serving import PortUnavailable, check_port, run_loop, serve
from netra.settings import (
    Check,
    ConfigurationError,
    Environment,
    Reader,
    Role,
    Service,
    Settings,
    resolve,
)
from netra.settings import load_settings as _load_settings
from netra.settings.docs import render as render_config_docs

app = typer.Typer(help="Netra: a self-hostable AI chat platform.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the configuration contract.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(auth_cli.users_app, name="users")
app.add_typer(auth_cli.keys_app, name="keys")
app.add_typer(auth_cli.mail_app, name="mail")
app.add_typer(deploy_app, name="deploy")
app.add_typer(chat_app, name="chat")
out = Console()
err = Console(stderr=True)

CHECKS: tuple[Check, ...] = (check_database_settings, check_oidc_settings)


def checks_for(services: Iterable[Reader]) -> tuple[Check, ...]:
    """The components' own checks; the models file only where the backend runs (the
    auth service is not given its secrets)."""
    return (*CHECKS, check_catalog) if Service.BACKEND in set(services) else CHECKS


class ServiceName(StrEnum):
    AUTH = "auth"
    BACKEND = "backend"


class ServiceScope(StrEnum):
    AUTH = "auth"
    BACKEND = "backend"
    ALL = "all"


class CheckScope(StrEnum):
    AUTH = "auth"
    BACKEND = "backend"
    MIGRATE = "migrate"
    ALL = "all"


def _services(scope: ServiceScope | CheckScope) -> list[Reader]:
    if scope.value == Role.MIGRATE:
        return [Role.MIGRATE]
    return list(Service) if scope.value == "all" else [Service(scope.value)]


def load_settings(services: Iterable[Reader], overrides: dict[str, str] | None = None) -> Settings:
    """Settings for these services, or the full report and exit 2: never a traceback."""
    services = list(services)
    try:
        return _load_settings(services, overrides=overrides, checks=checks_for(services))
    except ConfigurationError as exc:
        names = "+".join(exc.report.services)
        refuse(
            exc,
            "Netra cannot start.",
            f"Run `netra config check --env {exc.report.environment} --service "
            f"{names if '+' not in names else 'all'}` for the full report.",
        )


def _run(
    settings: Settings,
    factory: Callable[[Settings], FastAPI],
    host: str,
    port: int,
    banner: Callable[[str], None],
    *,
    service_name: str,
) -> None:
    try:
        check_port(host, port)
    except PortUnavailable as exc:
        err.print(f"[bold red]Netra cannot start.[/] {exc}")
        raise typer.Exit(1) from None
    configure_logging(settings)
    from netra.health.tracing import configure_tracing

    tracer_provider = configure_tracing(settings, service_name)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_loop(serve(factory(settings), host, port, on_ready=banner))
    finally:
        if tracer_provider is not None:
            tracer_provider.shutdown()  # the last spans are exported, not lost


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="Where data lives (DATA_DIR).")] = None,
    agent: Annotated[str | None, typer.Option(help="builtin, openai or local.")] = None,
) -> None:
    """Start the whole platform in one process: auth, backend and web UI."""
    from netra.embedded import create_app

    overrides = {"DATA_DIR": str(data_dir)} if data_dir else {}
    if agent:
        overrides["AGENT_PROVIDER"] = agent
    settings = load_settings(list(Service), overrides)
    if settings.auth_service_url is None:
        settings = settings.model_copy(
            update={"auth_service_url": f"http://{_reachable(host)}:{port}"}
        )

    def banner(url: str) -> None:
        out.print(
            f"[bold green]Netra is up:[/] {url}  (data in {settings.data_dir}; Ctrl+C to stop)"
        )

    if settings.environment.is_local and not _loopback(host):
        err.print(
            f"[bold yellow]Warning:[/] listening on {host}, reachable from other machines, "
            f"with the {settings.environment.value} rules in force: the first account "
            "registered becomes admin and cookies are not Secure (plain http). Set "
            "ENVIRONMENT=production (with its settings) before exposing Netra."
        )
    _run(settings, create_app, host, port, banner, service_name="netra")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104


@app.command("serve")
def serve_command(
    service: Annotated[ServiceName, typer.Argument(help="auth or backend.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run one service on its own, for a split deployment."""
    if service is ServiceName.AUTH:
        from netra.auth.app import create_app
    else:
        from netra.chat.app import create_app
    settings = load_settings([Service(service.value)])

    def banner(url: str) -> None:
        out.print(f"[bold green]Netra {service.value} is up:[/] {url}")

    _run(settings, create_app, host, port, banner, service_name=f"netra-{service.value}")


def _schemas(scope: ServiceScope) -> list[migrations.Schema]:
    from netra.auth.schema import AUTH_SCHEMA
    from netra.chat.schema import CHAT_SCHEMA

    return {
        ServiceScope.AUTH: [AUTH_SCHEMA],
        ServiceScope.BACKEND: [CHAT_SCHEMA],
        ServiceScope.ALL: [AUTH_SCHEMA, CHAT_SCHEMA],
    }[scope]


@app.command()
def migrate(
    service: Annotated[ServiceScope, typer.Option(help="Whose tables.")] = ServiceScope.ALL,
) -> None:
    """Upgrade the database schema to this release's head (a release step): it reads the
    database settings and nothing else, whichever service's tables it upgrades."""
    settings = load_settings([Role.MIGRATE])
    schemas = _schemas(service)

    async def run() -> None:
        engine = db.create_engine(settings)
        try:
            await db.ping(engine, timeout=settings.db_connect_timeout)
            await migrations.upgrade(engine, schemas)
            for schema in schemas:
                out.print((await migrations.status(engine, schema)).sentence())
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except db.DatabaseUnavailable as exc:
        err.print(f"[bold red]Cannot migrate:[/] {exc}")
        raise typer.Exit(1) from None


@app.command(hidden=True)
def revision(
    service: Annotated[ServiceName, typer.Argument(help="Whose tables changed.")],
    message: Annotated[str, typer.Argument(help="What the migration does.")],
) -> None:
    """Write the next migration of a service from its models (development)."""
    schema = _schemas(ServiceScope(service.value))[0]
    rev_id = asyncio.run(migrations.write_revision(schema, message))
    out.print(f"wrote {schema.versions}/{rev_id}_*.py; review it before committing")


@app.command()
def smoke(
    url: Annotated[str, typer.Argument(help="The backend's URL (or the embedded one).")],
    auth_url: Annotated[str | None, typer.Option(help="The auth service, if apart.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per step.")] = 30.0,
    totp_secret: Annotated[
        str | None,
        typer.Option(
            help="The smoke account's TOTP secret, when it has two-factor sign-in "
            "(or SMOKE_TOTP_SECRET)."
        ),
    ] = None,
) -> None:
    """Walk the golden path against a running deployment; exit 1 at the first failure."""
    from netra.client.smoke import SmokeCredentials, Step, run_smoke

    credentials = SmokeCredentials.configured(client_settings_or_exit(), totp_secret=totp_secret)

    def show(step: Step) -> None:
        if not as_json:
            mark = "[green]✓[/]" if step.ok else "[bold red]✗[/]"
            note = step.detail if step.ok else step.error
            out.print(f"{mark} {step.name:<26} {step.duration_ms:>8.1f} ms  {note or ''}")

    report = asyncio.run(run_smoke(url, auth_url, credentials, on_step=show, timeout=timeout))
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif report.failed is not None:
        err.print(f"[bold red]smoke failed at '{report.failed.name}':[/] {report.failed.error}")
    raise typer.Exit(0 if report.ok else 1)


@config_app.command("check")
def config_check(
    env: Annotated[Environment | None, typer.Option(help="Environment to check.")] = None,
    service: Annotated[
        CheckScope, typer.Option(help="Which service, or `migrate` (the release step).")
    ] = CheckScope.ALL,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
) -> None:
    """Resolve the configuration as startup would, print the report; exit 0 only if complete."""
    overrides = {"ENVIRONMENT": env.value} if env else {}
    _, report = resolve(
        _services(service),
        overrides=overrides,
        checks=checks_for(_services(service)),
        persist_generated=False,
    )
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    else:
        out.print(report.table())
        for problem in report.all_problems:
            out.print(f"[red]✗[/] {problem.sentence()}")
        if report.ok:
            out.print("[green]✓ configuration complete[/]")
    raise typer.Exit(0 if report.ok else 1)


@config_app.command("docs")
def config_docs(
    output: Annotated[Path, typer.Option(help="Where to write.")] = Path("docs/configuration.md"),
    check: Annotated[bool, typer.Option(help="Exit 1 if the file is stale.")] = False,
) -> None:
    """Generate docs/configuration.md from the contract."""
    text = render_config_docs()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            err.print(f"{output} is stale: run `netra config docs`")
            raise typer.Exit(1)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    out.print(f"wrote {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
