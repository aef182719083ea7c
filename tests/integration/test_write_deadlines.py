"""A write is committed only while its caller waits, and a database that does not
answer fails every waiting write at once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import OperationalError, StoredEvent
from psycopg import sql

from services.crm.application import CustomerHistory
from services.crm.application.bounds import bounded_call
from services.crm.application.group_commit import GroupCommit
from services.crm.application.results import DatabaseUnavailableError, DeadlinePassedError
from services.crm.projections.runner import open_application
from tests.integration.test_group_commit import note, stored


class HeldInsert:
    """The real insert, held back until released, so saves queue behind the first."""

    def __init__(self, app: CustomerHistory, fails: bool = False) -> None:
        self.app = app
        self.fails = fails
        self.batches: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        self.batches.append(len(events))
        self.started.set()
        self.release.wait(30)
        if self.fails:
            raise OperationalError("server closed the connection unexpectedly")
        return self.app.recorder.insert_events(events, **kwargs)


@pytest.fixture
def grouped(env: dict[str, str]) -> Iterator[CustomerHistory]:
    application = open_application(env, group_commit=True)
    yield application
    application.close()


def queued(group: GroupCommit, count: int) -> None:
    while group._waiting.qsize() < count:
        time.sleep(0.001)


def is_stored(app: CustomerHistory, aggregate_id: Any) -> bool:
    try:
        app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return False
    return True


@pytest.mark.parametrize("group_commit", [False, True])
def test_a_write_whose_deadline_has_passed_is_not_committed(
    env: dict[str, str], group_commit: bool
) -> None:
    app = open_application(env, group_commit=group_commit)
    late = note(f"random:{uuid4()}")
    try:
        with pytest.raises(DeadlinePassedError), bounded_call(time_remaining=-0.001):
            app.save(late)
        assert not is_stored(app, late.id)
    finally:
        app.close()


def test_a_save_whose_deadline_passes_while_it_queues_is_never_committed(
    app: CustomerHistory,
) -> None:
    now = [0.0]
    insert = HeldInsert(app)
    group = GroupCommit(insert, clock=lambda: now[0])
    first, late = note(f"random:{uuid4()}"), note(f"random:{uuid4()}")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            committed = pool.submit(group.insert, stored(app, first))
            insert.started.wait(30)
            refused = pool.submit(group.insert, stored(app, late), 10.0)
            queued(group, 1)
            now[0] = 10.0  # The deadline passes while the first commit holds the writer.
            insert.release.set()
            committed.result(30)
            with pytest.raises(DeadlinePassedError):
                refused.result(30)
    finally:
        group.stop()

    assert insert.batches == [1]
    assert is_stored(app, first.id)
    assert not is_stored(app, late.id)


def test_a_save_whose_caller_stopped_waiting_is_never_committed(app: CustomerHistory) -> None:
    now = [5.0]
    insert = HeldInsert(app)
    group = GroupCommit(insert, clock=lambda: now[0])
    first, abandoned = note(f"random:{uuid4()}"), note(f"random:{uuid4()}")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            committed = pool.submit(group.insert, stored(app, first))
            insert.started.wait(30)
            # Its deadline is now: the caller gives up at once.
            with pytest.raises(DeadlinePassedError):
                group.insert(stored(app, abandoned), 5.0)
            now[0] = 0.0  # Only the caller's giving up, not the writer's clock, stops it.
            insert.release.set()
            committed.result(30)
    finally:
        group.stop()

    assert insert.batches == [1]
    assert not is_stored(app, abandoned.id)


def test_when_the_database_does_not_answer_every_waiting_save_fails_at_once(
    app: CustomerHistory,
) -> None:
    insert = HeldInsert(app, fails=True)
    group = GroupCommit(insert)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            waiting: list[Future[list[int]]] = [
                pool.submit(group.insert, stored(app, note(f"random:{uuid4()}")))
            ]
            insert.started.wait(30)
            waiting += [
                pool.submit(group.insert, stored(app, note(f"random:{uuid4()}"))) for _ in range(3)
            ]
            queued(group, 3)
            insert.release.set()
            outcomes = [type(future.exception(timeout=30)) for future in waiting]
    finally:
        group.stop()

    assert outcomes == [DatabaseUnavailableError] * 4
    assert insert.batches == [1]  # The queued saves were not each tried in turn.


def test_a_call_without_a_deadline_still_commits(grouped: CustomerHistory) -> None:
    saved = note(f"random:{uuid4()}")
    # What gRPC's time_remaining() says for a call whose client set no deadline.
    with bounded_call(time_remaining=9.223372035e18):
        grouped.save(saved)

    assert is_stored(grouped, saved.id)


@contextmanager
def log_locked_by_another_writer(app: CustomerHistory, env: dict[str, str]) -> Iterator[None]:
    """Another writer holds the log's lock until the block ends, as a long transaction
    of another replica (or, on SQLite, of the projector's process) would."""
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        holder = sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    recorder: Any = app.recorder
    table = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
    with recorder.datastore.get_connection() as holder, holder.transaction():
        holder.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
        yield


@pytest.mark.parametrize("group_commit", [False, True])
def test_a_write_waiting_for_the_logs_lock_past_its_deadline_is_rolled_back(
    env: dict[str, str], group_commit: bool
) -> None:
    app = open_application(env, group_commit=group_commit)
    late = note(f"random:{uuid4()}")
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            with log_locked_by_another_writer(app, env):

                def save_late() -> None:
                    with bounded_call(time_remaining=0.5):
                        app.save(late)

                attempt = pool.submit(save_late)
                time.sleep(1.5)  # The lock outlives the caller's deadline.
            with pytest.raises(DeadlinePassedError):
                attempt.result(30)
        assert not is_stored(app, late.id)
        app.save(note(f"random:{uuid4()}"))  # The log takes writes again.
    finally:
        app.close()
