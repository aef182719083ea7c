"""The deadline engine in-process: cancelled deadlines, two engines at once, and the
index that finds due deadlines among many pending."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from services.crm.application import CustomerHistory, deadlines
from services.crm.application.deadlines import cancel, reschedule, schedule
from services.crm.deadlines.engine import DeadlineEngine
from services.crm.deadlines.projection import DEADLINES, DeadlineProjection, open_deadline_store
from services.crm.deadlines.store import DeadlineStore, PendingDeadline
from services.crm.domain.deadlines import Deadline
from services.crm.projections.batch_runner import apply_or_park
from services.crm.projections.runner import rebuild_read_model
from tests.deadline_log import START, fired_keys

LATER = START + timedelta(days=1)


def catch_up(app: CustomerHistory, store: DeadlineStore) -> None:
    """The deadline read model brought up to the end of the log, as the engine's does."""
    start = store.max_tracking_id(app.name) or 0
    notifications = app.recorder.select_notifications(start=start + 1, limit=100_000)
    apply_or_park(app, DeadlineProjection(store), notifications)


def test_a_cancelled_deadline_never_fires(env: dict[str, str], app: CustomerHistory) -> None:
    schedule(app, "callback/1", START + timedelta(minutes=5), "callback.due")
    schedule(app, "callback/2", START + timedelta(minutes=10), "callback.due")
    assert cancel(app, "callback/1")
    store = open_deadline_store(env)
    catch_up(app, store)

    fired = DeadlineEngine(app, store, lambda: LATER).fire_due()

    assert (fired, fired_keys(app), store.pending_count()) == (1, ["callback/2"], 0)
    assert not cancel(app, "callback/2"), "a fired deadline cannot be cancelled"
    store.close()


def test_a_deadline_cancelled_after_it_was_listed_does_not_fire(
    env: dict[str, str], app: CustomerHistory
) -> None:
    schedule(app, "survey/1", START, "survey.due")
    store = open_deadline_store(env)
    catch_up(app, store)
    engine = DeadlineEngine(app, store, lambda: LATER)
    cancel(app, "survey/1")  # Not yet seen by the read model, which still lists it.

    assert engine.fire_due() == 0
    assert (fired_keys(app), store.pending_count()) == ([], 0)
    store.close()


def test_two_engines_at_once_fire_each_deadline_once(
    env: dict[str, str], app: CustomerHistory
) -> None:
    keys = [f"case/{n}" for n in range(30)]
    for n, key in enumerate(keys):
        schedule(app, key, START + timedelta(seconds=n), "case.breached")
    engines = []
    for _ in range(2):
        engine_app = CustomerHistory(env=dict(env))
        store = open_deadline_store(env)
        catch_up(engine_app, store)
        engines.append(DeadlineEngine(engine_app, store, lambda: LATER))
    counts: list[int] = []
    threads = [threading.Thread(target=lambda e=e: counts.append(e.fire_due())) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(fired_keys(app)) == sorted(keys)
    assert sum(counts) == len(keys)
    # An engine that still lists them all, as one killed before it noted them done.
    stale = [PendingDeadline(Deadline.create_id(key), START) for key in keys]
    end = app.recorder.max_notification_id() or 0
    engines[0].store.apply([(stale, Tracking(app.name, end + 1))])
    assert engines[0].fire_due() == 0
    assert sorted(fired_keys(app)) == sorted(keys)
    assert engines[0].store.pending_count() == 0
    for engine in engines:
        engine.app.close()
        engine.store.close()


def test_finding_due_deadlines_among_ten_thousand_is_an_index_range_scan(
    env: dict[str, str], app: CustomerHistory
) -> None:
    store = open_deadline_store(env)
    pending = [PendingDeadline(uuid4(), START + timedelta(minutes=n % 5000)) for n in range(10_000)]
    store.apply([(pending, Tracking(app.name, 1))])
    assert store.pending_count() == 10_000

    plan = store.explain_due(START + timedelta(minutes=3))

    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        assert "USING COVERING INDEX deadlines_pending_by_due (due_time<?)" in plan, plan
    else:
        # An index scan, or a bitmap of one: either reads only the range that is due.
        assert (
            "Index Scan using deadlines_pending_by_due"
            in plan.replace("Index Only Scan", "Index Scan")
            or "Bitmap Index Scan on deadlines_pending_by_due" in plan
        ), plan
        assert "Index Cond: (due_time <=" in plan, plan
        assert "Seq Scan" not in plan, plan
    store.close()


def test_the_pending_deadlines_rebuild_from_the_log_to_the_live_ones(
    env: dict[str, str], app: CustomerHistory
) -> None:
    for n in range(5):
        schedule(app, f"incident/{n}", START + timedelta(hours=n), "incident.due")
    cancel(app, "incident/3")
    store = open_deadline_store(env)
    catch_up(app, store)
    DeadlineEngine(app, store, lambda: START + timedelta(minutes=90)).fire_due()
    live = store.due(LATER, 100)

    rebuild_read_model(env, DEADLINES)

    assert store.due(LATER, 100) == live
    assert [d.deadline_id for d in live] == [
        Deadline.create_id("incident/2"),
        Deadline.create_id("incident/4"),
    ]
    store.close()


def test_a_rescheduled_deadline_fires_at_its_new_time_only(
    env: dict[str, str], app: CustomerHistory
) -> None:
    schedule(app, "case/7/resolution", START + timedelta(hours=1), "case.breached")
    store = open_deadline_store(env)
    catch_up(app, store)
    engine = DeadlineEngine(app, store, lambda: START + timedelta(hours=2))
    # Moved later, before the read model sees it: it still lists the old time.
    assert reschedule(app, "case/7/resolution", START + timedelta(hours=3))

    assert engine.fire_due() == 0
    catch_up(app, store)
    assert engine.fire_due() == 0
    assert DeadlineEngine(app, store, lambda: START + timedelta(hours=3)).fire_due() == 1
    assert fired_keys(app) == ["case/7/resolution"]
    assert not reschedule(app, "case/7/resolution", LATER), "a fired deadline cannot move"
    store.close()


def test_a_deadline_moved_while_it_fires_is_kept_and_fires_at_its_new_time(
    env: dict[str, str], app: CustomerHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner moves it between the engine's read and its write: the engine's write
    collides, and the deadline stays pending in the aggregate and in the read model."""
    schedule(app, "case/1/first_response", START + timedelta(minutes=5), "case.breached")
    store = open_deadline_store(env)
    catch_up(app, store)
    engine = DeadlineEngine(app, store, lambda: START + timedelta(minutes=10))
    real_find = deadlines.find_deadline

    def moved_meanwhile(app_: CustomerHistory, deadline_id: UUID) -> Deadline | None:
        monkeypatch.setattr(deadlines, "find_deadline", real_find)
        stale = real_find(app_, deadline_id)
        reschedule(app, "case/1/first_response", START + timedelta(minutes=20))
        catch_up(app, store)
        return stale

    monkeypatch.setattr(deadlines, "find_deadline", moved_meanwhile)

    assert engine.fire_due() == 0
    assert (fired_keys(app), store.pending_count()) == ([], 1)
    assert DeadlineEngine(app, store, lambda: START + timedelta(minutes=20)).fire_due() == 1
    assert fired_keys(app) == ["case/1/first_response"]
    store.close()
