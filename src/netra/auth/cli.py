"""`netra users create-admin EMAIL` and `netra keys rotate`: the auth service's
operator commands (they talk to the database directly, like `netra migrate`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from netra import db
from netra.auth import accounts
from netra.auth.identity import EmailRejected, normalize_email
from netra.auth.passwords import Passwords
from netra.auth.signing import SigningKeyError, SigningKeys
from netra.errors import DomainError
from netra.settings import ConfigurationError, Service, Settings, load_settings

users_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage access-token signing keys.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings([Service.AUTH])
    except ConfigurationError as exc:
        err.print(f"[bold red]Cannot run:[/] {exc.report.summary()}")
        raise typer.Exit(2) from None


def _with_database(
    settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]
) -> T:
    async def run() -> T:
        engine = db.create_engine(settings)
        try:
            await db.ping(engine, timeout=settings.db_connect_timeout)
            return await work(db.sessionmaker(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except db.DatabaseUnavailable as exc:
        err.print(f"[bold red]Cannot reach the database:[/] {exc}")
        raise typer.Exit(1) from None


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Argument(help="The admin's email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    promote_existing: Annotated[
        bool,
        typer.Option(
            "--promote",
            help="Make an existing account admin. Without it an existing account is refused: "
            "whoever registered the address first may not be the person you mean.",
        ),
    ] = False,
) -> None:
    """Create an admin account, or (with --promote) make an existing account admin."""
    settings = _settings()
    try:
        normalized = normalize_email(email)
    except EmailRejected as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None

    async def exists(db: async_sessionmaker[AsyncSession]) -> bool:
        return await accounts.find_account(db, normalized) is not None

    password: str | None = None
    found = _with_database(settings, exists)
    if found and not promote_existing:
        _refuse_existing(normalized)
    if not found:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def promote(db: async_sessionmaker[AsyncSession]) -> str:
        passwords = Passwords(settings.password_min_length)
        return await accounts.grant_admin(
            db, passwords, normalized, password, promote_existing=promote_existing
        )

    try:
        outcome = _with_database(settings, promote)
    except DomainError as exc:
        err.print(f"[bold red]{exc.message}[/]")
        raise typer.Exit(2) from None
    out.print(f"[green]{normalized} is an admin[/] ({outcome})")


def _refuse_existing(email: str) -> None:
    err.print(
        f"[bold red]{email} already has an account[/]; it was not made admin. If it is "
        "the person you mean (its audit log: GET /auth/admin/users/{id}/audit), run again "
        "with --promote."
    )
    raise typer.Exit(2)


@keys_app.command("rotate")
def rotate() -> None:
    """Add a signing key and sign with it; the old one stays published until its tokens
    have expired (ACCESS_TOKEN_TTL). Running instances pick it up within 30 seconds."""
    settings = _settings()
    if settings.token_algorithm == "HS256":
        err.print(
            "TOKEN_ALGORITHM=HS256 signs with the shared secret: rotate it by changing "
            "JWT_SECRET_{ENVIRONMENT} on both services; there is no stored key to rotate."
        )
        raise typer.Exit(2)

    async def work(db: async_sessionmaker[AsyncSession]) -> str:
        return await SigningKeys(settings, db).rotate()

    try:
        kid = _with_database(settings, work)
    except SigningKeyError as exc:
        err.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    out.print(f"[green]signing with key {kid}[/] ({settings.token_algorithm})")
