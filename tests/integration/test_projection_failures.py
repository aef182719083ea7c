"""A read model never stalls on one stored event: text PostgreSQL cannot hold is escaped,
an event that cannot be applied is parked, and a database error is retried."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from psycopg import sql

from services.crm.application import CustomerHistory
from services.crm.domain.identity import Identity
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.directory_projection import DirectoryProjection
from services.crm.projections.directory_store import DirectoryChange
from services.crm.projections.health import ProjectionHealth
from services.crm.projections.runner import (
    DIRECTORY,
    READ_MODELS,
    TIMELINE,
    ProjectionSupervisor,
    rebuild_read_model,
)
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import all_rows
from tests.stored_events import store_customer_named, store_unreadable_customer

StartProjections = Callable[..., list[ProjectionSupervisor]]


@pytest.fixture
def start_projections(env: dict[str, str], app: CustomerHistory) -> Iterator[StartProjections]:
    """Starts supervisors, one per read model unless one is named; stop() them to rebuild."""
    started: list[ProjectionSupervisor] = []
    app.timeline.max_tracking_id(app.name)
    app.directory.max_tracking_id(app.name)

    def start(
        env_overrides: dict[str, str] | None = None, **kwargs: Any
    ) -> list[ProjectionSupervisor]:
        settings = {**env, **(env_overrides or {})}
        supervisors = (
            [ProjectionSupervisor(settings, restart_delay=0.05, **kwargs)]
            if kwargs
            else [ProjectionSupervisor(settings, m, restart_delay=0.05) for m in READ_MODELS]
        )
        for supervisor in supervisors:
            supervisor.start()
        started.extend(supervisors)
        return supervisors

    yield start
    for supervisor in started:
        supervisor.stop()


def on_postgres(env: dict[str, str]) -> bool:
    return env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"


def create(app: CustomerHistory, name: str, *identities: Identity) -> UUID:
    return app.create_customer(CustomerProfile(name), list(identities), AGENT, "").customer.id


def found(app: CustomerHistory, words: str, min_position: int) -> list[tuple[UUID, str]]:
    """Name search that must include the log up to min_position within 30 seconds."""
    entries = app.search_by_name(words, 50, None, min_position, 30.0)
    return [(entry.customer_id, entry.display_name) for entry in entries]


def parked(app: CustomerHistory) -> dict[str, list[tuple[int, str, str]]]:
    return {
        "timeline": [(p.position, p.topic, p.originator_id) for p in app.timeline.parked_events()],
        "directory": [
            (p.position, p.topic, p.originator_id) for p in app.directory.parked_events()
        ],
    }


def test_a_stored_name_with_nul_is_applied_and_search_and_timelines_keep_answering(
    app: CustomerHistory, env: dict[str, str], start_projections: StartProjections
) -> None:
    supervisors = start_projections()
    grace = create(app, "Grace Hopper")
    ada, ada_position = store_customer_named(app, "Ada\x00Lovelace")
    alan_email = Identity.email(random_refs.email())
    alan = create(app, "Alan Turing", alan_email)
    recorded = app.record_interaction(alan_email, content(), AGENT, "")
    last = recorded.position

    # PostgreSQL text cannot hold NUL: the read models write U+FFFD in its place.
    shown = "Ada\ufffdLovelace" if on_postgres(env) else "Ada\x00Lovelace"
    assert found(app, "ada", ada_position) == [(ada, shown)]
    assert found(app, "lovelace", last) == [(ada, shown)]
    assert found(app, "grace", last) == [(grace, "Grace Hopper")]
    assert found(app, "alan", last) == [(alan, "Alan Turing")]
    app.wait_for_position(last, 30.0)
    assert [row.entry_id for row in all_rows(app, alan)] == [recorded.interaction.id]
    assert parked(app) == {"timeline": [], "directory": []}

    live = (found(app, "ada", last), found(app, "alan", last), all_rows(app, alan))
    for supervisor in supervisors:
        supervisor.stop()
    rebuilt = [rebuild_read_model(env, model) for model in READ_MODELS]

    assert [(r.replayed, r.parked) for r in rebuilt] == [(last, 0), (last, 0)]
    assert (found(app, "ada", last), found(app, "alan", last), all_rows(app, alan)) == live


def test_an_event_that_cannot_be_applied_is_parked_and_later_events_apply(
    app: CustomerHistory,
    env: dict[str, str],
    start_projections: StartProjections,
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = f"Canary Cornelius {random_refs.suffix()}"
    start_projections()
    broken, broken_position = store_unreadable_customer(app, canary)
    later_email = Identity.email(random_refs.email())
    later = create(app, "Later Customer", later_email)
    recorded = app.record_interaction(later_email, content(), AGENT, "")
    last = recorded.position

    with caplog.at_level(logging.INFO):
        assert found(app, "later", last) == [(later, "Later Customer")]
        app.wait_for_position(last, 30.0)
    assert [row.entry_id for row in all_rows(app, later)] == [recorded.interaction.id]
    entry = (broken_position, "crm.Customer.Registered", str(broken))
    assert parked(app) == {"timeline": [entry], "directory": [entry]}

    parking_lines = [
        r.__dict__["fields"]
        for r in caplog.records
        if r.getMessage() == "projection parked an event it cannot apply"
    ]
    assert sorted((line["read_model"], line["position"]) for line in parking_lines) == [
        ("directory", broken_position),
        ("timeline", broken_position),
    ]
    assert all(line["originator_id"] == str(broken) for line in parking_lines)
    assert all(line["raised_at"] for line in parking_lines), "where to look, for the operator"
    everything_logged = "".join(
        r.getMessage() + json.dumps(r.__dict__.get("fields"), default=str) + (r.exc_text or "")
        for r in caplog.records
    )
    assert "Cornelius" not in everything_logged
    assert all("Cornelius" not in p.error_class for p in app.directory.parked_events())


def test_a_rebuild_parks_the_event_again_and_applies_the_rest_of_its_batch(
    app: CustomerHistory, env: dict[str, str]
) -> None:
    before = [create(app, f"Before {n}") for n in range(20)]
    broken, broken_position = store_unreadable_customer(app, "Canary Cornelius")
    after = [create(app, f"After {n}") for n in range(20)]
    log_end = app.recorder.max_notification_id() or 0

    rebuilt = [rebuild_read_model(env, model) for model in (TIMELINE, DIRECTORY)]

    assert [(r.read_model, r.replayed, r.parked) for r in rebuilt] == [
        ("timeline", log_end, 1),
        ("directory", log_end, 1),
    ]
    entry = (broken_position, "crm.Customer.Registered", str(broken))
    assert parked(app) == {"timeline": [entry], "directory": [entry]}
    assert {c for c, _ in found(app, "before", log_end)} == set(before)
    assert {c for c, _ in found(app, "after", log_end)} == set(after)


class _DirectoryDuringAnOutage(DirectoryProjection):
    """The directory, while outage is set failing as a database that is unreachable does."""

    outage = threading.Event()

    def changes(self, event: Any) -> list[DirectoryChange]:
        if self.outage.is_set():
            raise OperationalError("connection refused")
        return super().changes(event)


@contextmanager
def directory_writes_refused(env: dict[str, str], database_url: str) -> Iterator[None]:
    """SQLite locked by another writer; PostgreSQL failing inserts into the directory's
    customers with a serialization failure, as a conflicting transaction would."""
    if not on_postgres(env):
        locker = sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            locker.rollback()
            locker.close()
        return
    schema = sql.Identifier(env["POSTGRES_SCHEMA"])
    with psycopg.connect(database_url.partition("?")[0], autocommit=True) as connection:
        connection.execute(
            sql.SQL(
                "CREATE FUNCTION {}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not serialize access' USING ERRCODE = "
                "'serialization_failure'; END $$"
            ).format(schema)
        )
        connection.execute(
            sql.SQL(
                "CREATE TRIGGER refuse BEFORE INSERT ON {}.directory_customers "
                "FOR EACH ROW EXECUTE FUNCTION {}.refuse()"
            ).format(schema, schema)
        )
        try:
            yield
        finally:
            connection.execute(
                sql.SQL("DROP TRIGGER refuse ON {}.directory_customers").format(schema)
            )


def wait_for_restarts(supervisor: ProjectionSupervisor, count: int) -> None:
    deadline = time.monotonic() + 60
    while supervisor.restarts < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_locked_or_conflicting_database_is_retried_and_nothing_is_parked(
    app: CustomerHistory,
    env: dict[str, str],
    database_url: str,
    start_projections: StartProjections,
) -> None:
    customer = create(app, "Locked Lucy")
    position = app.recorder.max_notification_id() or 0
    with directory_writes_refused(env, database_url):
        [supervisor] = start_projections({"SQLITE_LOCK_TIMEOUT": "1"}, read_model=DIRECTORY)
        wait_for_restarts(supervisor, 2)

    assert found(app, "lucy", position) == [(customer, "Locked Lucy")]
    assert supervisor.restarts >= 2
    assert app.directory.parked_events() == []


def test_a_database_error_is_retried_until_it_clears_and_nothing_is_parked(
    app: CustomerHistory, start_projections: StartProjections
) -> None:
    _DirectoryDuringAnOutage.outage.set()
    [supervisor] = start_projections(
        read_model=DIRECTORY, projection_class=_DirectoryDuringAnOutage
    )
    try:
        customer = create(app, "Outage Olga")
        position = app.recorder.max_notification_id() or 0
        wait_for_restarts(supervisor, 2)
    finally:
        _DirectoryDuringAnOutage.outage.clear()

    assert found(app, "olga", position) == [(customer, "Outage Olga")]
    assert supervisor.restarts >= 2
    assert app.directory.parked_events() == []


def test_health_reports_a_read_model_stalled_for_30_seconds_and_parked_events(
    app: CustomerHistory, start_projections: StartProjections
) -> None:
    now = [0.0]
    health = ProjectionHealth(app, clock=lambda: now[0])
    walter = create(app, "Waiting Walter")
    registered = app.get_customer(walter).created_on

    # Lag in seconds is counted from when the oldest event not applied was recorded.
    assert [(s.read_model, s.stalled, s.waiting_since) for s in health.statuses()] == [
        ("timeline", False, registered),
        ("directory", False, registered),
    ]
    now[0] = 29.9
    assert health.healthy()
    now[0] = 30.0
    assert [s.stalled for s in health.statuses()] == [True, True]
    assert not health.healthy()

    start_projections()
    store_unreadable_customer(app, "Canary Cornelius")
    app.wait_for_position(app.recorder.max_notification_id() or 0, 30.0, app.directory)
    app.wait_for_position(app.recorder.max_notification_id() or 0, 30.0)
    statuses = health.statuses()
    assert [(s.stalled, s.behind, s.parked) for s in statuses] == [(False, 0, 1), (False, 0, 1)]
    assert [s.waiting_since for s in statuses] == [None, None]
    assert not health.healthy()
