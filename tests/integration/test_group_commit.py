"""Group commit: concurrent saves share a transaction, yet each call keeps its own fate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import IntegrityError, StoredEvent

from services.crm.application import CustomerHistory
from services.crm.application.group_commit import GroupCommit
from services.crm.application.results import ServiceStoppingError
from services.crm.domain.identity import Identity, IdentityKind
from services.crm.domain.note import Note
from services.crm.projections.runner import open_application
from tests import random_refs
from tests.builders import AGENT, content


@pytest.fixture
def grouped(env: dict[str, str]) -> Iterator[CustomerHistory]:
    application = open_application(env, group_commit=True)
    yield application
    application.close()


def note(key: str) -> Note:
    return Note(
        idempotency_key=key, customer_id=uuid4(), text="synthetic", fingerprint="", cause=AGENT
    )


def test_a_conflict_inside_a_batch_fails_only_its_own_call(app: CustomerHistory) -> None:
    taken = note(f"request:agent:test-agent:{uuid4()}")
    app.save(taken)
    release = threading.Event()
    batch_sizes: list[int] = []

    def slow_insert(events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        batch_sizes.append(len(events))
        release.wait(30)  # Holds the first commit so the rest queue up behind it.
        return app.recorder.insert_events(events, **kwargs)

    group = GroupCommit(slow_insert)
    fresh = [note(f"random:{uuid4()}") for _ in range(8)]
    clash = note(taken.idempotency_key)  # Same id as a stored note: cannot commit.
    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            first = pool.submit(group.insert, stored(app, note(f"random:{uuid4()}")))
            while not batch_sizes:
                time.sleep(0.001)
            others = [pool.submit(group.insert, stored(app, n)) for n in [*fresh, clash]]
            while group._waiting.qsize() < len(others):
                time.sleep(0.001)
            release.set()
            first.result(30)
            with pytest.raises(IntegrityError):
                others[-1].result(30)
            committed = [future.result(30) for future in others[:-1]]
    finally:
        group.stop()

    assert len(batch_sizes) >= 2
    assert batch_sizes[1] == len(others)  # They were tried together first.
    for positions, fresh_note in zip(committed, fresh, strict=True):
        (notification,) = app.recorder.select_notifications(start=positions[0], limit=1)
        assert notification.originator_id == fresh_note.id
    for saved in fresh:
        assert app.repository.get(saved.id).text == "synthetic"


def test_concurrent_retries_across_batches_record_one_interaction(
    grouped: CustomerHistory,
) -> None:
    identity = Identity(IdentityKind.EMAIL, random_refs.email())
    what = content(summary="one request, many retries")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(
                lambda _: grouped.record_interaction(identity, what, AGENT, "retried-request"),
                range(32),
            )
        )

    assert len({result.interaction.customer_id for result in results}) == 1
    (interaction_id,) = {result.interaction.id for result in results}
    assert len(grouped.recorder.select_events(interaction_id)) == 1


def test_many_writers_each_get_their_own_commit_position(grouped: CustomerHistory) -> None:
    def record(number: int) -> tuple[UUID, int]:
        identity = Identity(IdentityKind.EMAIL, random_refs.email())
        result = grouped.record_interaction(identity, content(), AGENT, f"writer-{number}")
        return result.interaction.id, result.position

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(record, range(200)))

    assert len({interaction for interaction, _ in results}) == 200
    for interaction, position in results:
        (stored,) = grouped.recorder.select_notifications(start=position, limit=1)
        # Each caller's position is that of its own last event: read-your-write holds.
        assert stored.originator_id == interaction


def stored(app: CustomerHistory, *aggregates: Any) -> list[StoredEvent]:
    processing: ProcessingEvent[UUID] = ProcessingEvent()
    processing.collect_events(*aggregates)
    return [app.mapper.to_stored_event(event) for event in processing.events]


def test_a_save_after_stopping_is_refused_at_once(app: CustomerHistory) -> None:
    group = GroupCommit(app.recorder.insert_events)
    group.stop()

    with pytest.raises(ServiceStoppingError):
        group.insert(stored(app, note(f"random:{uuid4()}")))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_callers_waiting_when_the_writer_dies_are_told_not_left_waiting(
    app: CustomerHistory,
) -> None:
    def broken_insert(events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        raise SystemExit  # Escapes every handler, as a crash in the writer would.

    group = GroupCommit(broken_insert)
    with ThreadPoolExecutor(max_workers=4) as pool:
        waiting = [
            pool.submit(group.insert, stored(app, note(f"random:{uuid4()}"))) for _ in range(4)
        ]
        outcomes = [type(future.exception(timeout=10)) for future in waiting]

    assert set(outcomes) == {ServiceStoppingError}


def test_each_commit_is_reported_with_the_saves_it_held(app: CustomerHistory) -> None:
    release = threading.Event()
    began: list[int] = []
    reported: list[int] = []

    def slow_insert(events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        began.append(len(events))
        release.wait(30)  # Holds the first commit so the rest queue up behind it.
        return app.recorder.insert_events(events, **kwargs)

    group = GroupCommit(slow_insert, on_commit=reported.append)
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            first = pool.submit(group.insert, stored(app, note(f"random:{uuid4()}")))
            while not began:
                time.sleep(0.001)
            others = [
                pool.submit(group.insert, stored(app, note(f"random:{uuid4()}"))) for _ in range(5)
            ]
            while group._waiting.qsize() < len(others):
                time.sleep(0.001)
            release.set()
            for future in [first, *others]:
                future.result(30)
    finally:
        group.stop()

    assert reported == [1, 5]
