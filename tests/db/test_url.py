"""The one database URL builder, and messages that never carry a password."""

from __future__ import annotations

import pytest

from netra.db.url import DatabaseUrlError, check_database_settings, database_url, describe
from tests.support.apps import SettingsFactory


def test_default_is_sqlite_in_the_data_dir(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    url = database_url(settings)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(settings.data_dir / "netra.db")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5433/n", "postgresql+asyncpg://u:***@h:5433/n"),
        ("postgresql://u:p@h/n?sslmode=require", "postgresql+asyncpg://u:***@h/n?ssl=require"),
        ("postgresql+asyncpg://u@h/n", "postgresql+asyncpg://u@h/n"),
        ("sqlite:////var/lib/netra/netra.db", "sqlite+aiosqlite:////var/lib/netra/netra.db"),
        (
            "postgresql+asyncpg://u:p@/db?host=/cloudsql/p:r:i",
            "postgresql+asyncpg://u:***@/db?host=%2Fcloudsql%2Fp%3Ar%3Ai",
        ),
    ],
)
def test_full_urls_are_normalised_to_async_drivers(
    make_settings: SettingsFactory, given: str, expected: str
) -> None:
    assert database_url(make_settings(DATABASE_URL=given)).render_as_string() == expected


def test_parts_are_escaped(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        DB_HOST="10.0.0.5", DB_USER="netra", DB_PASSWORD="p@ss:w/rd?#", DB_NAME="netra"
    )
    url = database_url(settings)
    assert url.password == "p@ss:w/rd?#"
    assert "p%40ss%3Aw%2Frd%3F%23" in url.render_as_string(hide_password=False)
    assert describe(url) == "PostgreSQL database 'netra' at 10.0.0.5:5432"


def test_cloud_sql_instance_becomes_the_socket_directory(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        CLOUD_SQL_INSTANCE="proj:europe-west1:netra", DB_USER="netra", DB_NAME="netra"
    )
    url = database_url(settings)
    assert url.query["host"] == "/cloudsql/proj:europe-west1:netra"
    assert url.host is None
    assert (
        describe(url) == "PostgreSQL database 'netra' at socket /cloudsql/proj:europe-west1:netra"
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "not a url at all :: pw=hunter2",
            "is not a valid database URL; expected postgresql://USER:PASSWORD@HOST:5432/NAME "
            "or sqlite:///path/to/netra.db",
        ),
        (
            "mysql://u:hunter2@h/n",
            "uses the unsupported scheme 'mysql'; expected postgresql://USER:PASSWORD@HOST:5432/"
            "NAME or sqlite:///path/to/netra.db",
        ),
        (
            "postgresql://u:hunter2@h:5432",
            "names no database (PostgreSQL database 'None' at h:5432); expected postgresql://"
            "USER:PASSWORD@HOST:5432/NAME or sqlite:///path/to/netra.db",
        ),
        (
            "sqlite://",
            "must name a SQLite file (an in-memory database would be empty for every connection)",
        ),
    ],
    ids=["garbage", "unsupported-scheme", "no-database", "sqlite-memory"],
)
def test_malformed_urls_are_explained_without_the_password(
    make_settings: SettingsFactory, given: str, message: str
) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        database_url(make_settings(DATABASE_URL=given))
    assert str(caught.value) == message
    assert "hunter2" not in str(caught.value)


def test_malformed_url_is_a_configuration_problem(make_settings: SettingsFactory) -> None:
    [problem] = check_database_settings(make_settings(DATABASE_URL="mysql://u:hunter2@h/n"))
    assert problem.setting == "DATABASE_URL"
    assert "hunter2" not in problem.sentence()
