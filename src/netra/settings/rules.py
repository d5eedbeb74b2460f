"""Rules that span several settings; each returns the problems it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from netra.settings.contract import Settings
from netra.settings.report import ConfigReport, Problem
from netra.settings.spec import BOTH, Reader, Service

Rule = Callable[[Settings, ConfigReport, frozenset[Reader]], Iterable[Problem]]


def database_is_configured(
    settings: Settings, report: ConfigReport, services: frozenset[Reader]
) -> Iterable[Problem]:
    parts = {
        "DB_HOST": settings.db_host,
        "DB_USER": settings.db_user,
        "DB_PASSWORD": settings.db_password,
        "DB_NAME": settings.db_name,
        "CLOUD_SQL_INSTANCE": settings.cloud_sql_instance,
    }
    given = [name for name, value in parts.items() if value is not None]
    if settings.database_url is not None:
        if given:
            yield Problem(
                "DATABASE_URL",
                f"is set together with {', '.join(given)}; "
                "give either the full URL or the DB_* parts, not both",
            )
        return
    if given:
        if settings.db_name is None:
            yield Problem("DB_NAME", f"is required when {', '.join(given)} is set")
        if settings.db_host is None and settings.cloud_sql_instance is None:
            yield Problem(
                "DB_HOST",
                "is required with the DB_* parts (or set "
                "CLOUD_SQL_INSTANCE to connect through the Cloud SQL socket)",
            )
        if settings.db_host is not None and settings.cloud_sql_instance is not None:
            yield Problem("CLOUD_SQL_INSTANCE", "is set together with DB_HOST; choose one")
        return
    if not settings.environment.is_local:
        entry = report.entry("DATABASE_URL")
        yield Problem(
            "DATABASE_URL",
            f"no database is configured for {settings.environment.value} (SQLite in DATA_DIR "
            "is the development default only)",
            hint=entry.hint or "set DATABASE_URL, or DB_NAME with DB_HOST or CLOUD_SQL_INSTANCE",
            looked=entry.looked,
        )


def shared_secret_present(
    settings: Settings, report: ConfigReport, services: frozenset[Reader]
) -> Iterable[Problem]:
    serving = services & BOTH  # a migration signs and verifies nothing
    if serving and settings.token_algorithm == "HS256" and settings.jwt_secret is None:
        entry = report.entry("JWT_SECRET_{ENVIRONMENT}")
        yield Problem(
            entry.name,
            "TOKEN_ALGORITHM=HS256 needs the shared secret, and none was found",
            hint=entry.hint,
            looked=entry.looked,
        )


def agent_provider_usable(
    settings: Settings, report: ConfigReport, services: frozenset[Reader]
) -> Iterable[Problem]:
    if Service.BACKEND not in services or settings.agent_provider != "openai":
        return
    if settings.openai_base_url is None and settings.openai_api_key is None:
        yield Problem(
            "OPENAI_BASE_URL",
            "AGENT_PROVIDER=openai needs OPENAI_BASE_URL (a "
            "compatible server) or OPENAI_API_KEY (api.openai.com)",
        )


def backend_can_find_auth(
    settings: Settings, report: ConfigReport, services: frozenset[Reader]
) -> Iterable[Problem]:
    """A backend running without the auth service beside it must be told where it is
    (docs/incidents.md I-3: `auth_service_endpoint: unknown`)."""
    alone = Service.BACKEND in services and Service.AUTH not in services
    if alone and settings.auth_service_url is None and settings.environment.is_local:
        entry = report.entry("AUTH_SERVICE_URL")
        yield Problem(
            "AUTH_SERVICE_URL",
            "is required by a backend running on its own (only "
            "`netra up` serves the auth service in the same process)",
            hint=entry.hint,
            looked=entry.looked,
        )


RULES: tuple[Rule, ...] = (
    database_is_configured,
    shared_secret_present,
    agent_provider_usable,
    backend_can_find_auth,
)
