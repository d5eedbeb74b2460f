"""What the command line prints a configuration it cannot use with: every problem, one
per line, and exit 2; never a traceback."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from netra.settings import ConfigurationError, Settings, client_settings

err = Console(stderr=True)


def refuse(exc: ConfigurationError, headline: str, then: str | None = None) -> NoReturn:
    err.print(f"[bold red]{headline}[/] {exc.report.summary()}")
    if then:
        err.print(then)
    raise typer.Exit(2) from None


def client_settings_or_exit() -> Settings:
    """`client_settings()` for a command (`netra smoke`, `netra chat`)."""
    try:
        return client_settings()
    except ConfigurationError as exc:
        refuse(exc, "Netra cannot run this command.")
