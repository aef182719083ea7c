"""Fixtures shared by all tests: one scenario, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from services.crm.application import CustomerHistory
from services.crm.projections.runner import READ_MODELS, ProjectionSupervisor, open_application
from services.crm.storage import ensure_postgres_schema, eventsourcing_env
from tests.postgres_server import PostgresUnavailableError, postgres_url

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        with postgres_url() as url:
            yield url
    except PostgresUnavailableError as error:
        # Never a skip: half the scenarios are PostgreSQL's, and a quiet skip hides that.
        pytest.fail(
            f"PostgreSQL is required: {error}. Run `make test` (it installs PostgreSQL on "
            "Debian as root) or set CRM_TEST_DATABASE_URL."
        )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own for each test: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/crm.sqlite3"
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield f"{server}?schema={schema}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    settings = eventsourcing_env(database_url)
    if settings["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        ensure_postgres_schema(settings)
    return settings


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[CustomerHistory]:
    application = open_application(env)
    yield application
    application.close()


@pytest.fixture
def projection(env: dict[str, str], app: CustomerHistory) -> Iterator[ProjectionSupervisor]:
    """The projections, started after the application has created the tables; the
    timeline's supervisor is the one yielded."""
    app.timeline.max_tracking_id(app.name)
    app.directory.max_tracking_id(app.name)
    supervisors = [ProjectionSupervisor(env, model, restart_delay=0.05) for model in READ_MODELS]
    for supervisor in supervisors:
        supervisor.start()
    yield supervisors[0]
    for supervisor in supervisors:
        supervisor.stop()
