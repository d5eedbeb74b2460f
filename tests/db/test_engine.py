"""Connection failures in words (docs/incidents.md I-1), never a password."""

from __future__ import annotations

import pytest

from netra import db
from netra.testing import free_port
from tests.support.apps import SettingsFactory


async def test_missing_cloud_sql_socket_is_named_not_enoent(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        DATABASE_URL="postgresql+asyncpg://netra:hunter2@/netra?host=/cloudsql/proj:region:inst"
    )
    engine = db.create_engine(settings)
    with pytest.raises(db.DatabaseUnavailable) as caught:
        await db.ping(engine)
    assert str(caught.value) == (
        "Cloud SQL socket /cloudsql/proj:region:inst is missing: is the instance "
        "proj:region:inst attached to this service (Cloud Run: run.googleapis.com/"
        "cloudsql-instances)? If the deployment failed earlier, e.g. while loading secrets, "
        "the proxy never started."
    )
    await engine.dispose()


async def test_refused_connection_names_host_and_database(make_settings: SettingsFactory) -> None:
    port = free_port()
    settings = make_settings(DATABASE_URL=f"postgresql://netra:hunter2@127.0.0.1:{port}/netra")
    engine = db.create_engine(settings)
    with pytest.raises(db.DatabaseUnavailable) as caught:
        await db.ping(engine)
    assert str(caught.value) == (
        f"cannot connect to PostgreSQL database 'netra' at 127.0.0.1:{port}: "
        "connection refused (is the server running?)"
    )
    await engine.dispose()


async def test_missing_database_is_named(make_settings: SettingsFactory) -> None:
    settings = make_settings(DATABASE_URL="postgresql://postgres@127.0.0.1:5432/netra_absent_db")
    engine = db.create_engine(settings)
    with pytest.raises(db.DatabaseUnavailable) as caught:
        await db.ping(engine)
    assert str(caught.value) == (
        "cannot connect to PostgreSQL database 'netra_absent_db' at 127.0.0.1:5432: "
        "the database does not exist (create it, or fix the name)"
    )
    await engine.dispose()


async def test_both_backends_answer(
    make_settings: SettingsFactory, database_env: dict[str, str]
) -> None:
    engine = db.create_engine(make_settings(**database_env))
    await db.ping(engine)
    await engine.dispose()
