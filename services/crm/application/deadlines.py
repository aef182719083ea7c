"""Use cases for deadlines: schedule, move, cancel, and record that one fell due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.crm.application.base import CustomerHistoryBase, commit_position
from services.crm.domain.deadlines import Deadline, schedule_deadline


def find_deadline(app: CustomerHistoryBase, deadline_id: UUID) -> Deadline | None:
    try:
        deadline: object = app.repository.get(deadline_id)
    except AggregateNotFoundError:
        return None
    return deadline if isinstance(deadline, Deadline) else None


def schedule(
    app: CustomerHistoryBase,
    key: str,
    due_time: datetime,
    consequence: str,
    payload: dict[str, str] | None = None,
) -> int:
    """Schedules a deadline on its own; its owner would rather save it with its events."""
    return commit_position(app.save(schedule_deadline(key, due_time, consequence, payload)))


def reschedule(app: CustomerHistoryBase, key: str, due_time: datetime) -> bool:
    """Whether this moved a pending deadline (not one that fired or was cancelled)."""
    return _change_pending(app, Deadline.create_id(key), lambda d: d.reschedule(due_time))


def cancel(app: CustomerHistoryBase, key: str) -> bool:
    """Whether this cancelled a pending deadline (not one already fired)."""
    return _change_pending(app, Deadline.create_id(key), Deadline.cancel)


def fire(app: CustomerHistoryBase, deadline_id: UUID) -> bool:
    """Records that a pending deadline fell due; False if it was cancelled, or fired
    already (by an earlier attempt or another engine): its next version is taken."""
    return _change_pending(app, deadline_id, Deadline.fire)


def _change_pending(
    app: CustomerHistoryBase, deadline_id: UUID, change: Callable[[Deadline], None]
) -> bool:
    deadline = find_deadline(app, deadline_id)
    if deadline is None or not deadline.pending:
        return False
    change(deadline)
    try:
        app.save(deadline)
    except IntegrityError:
        return False  # Another change (fired, cancelled) took its next version meanwhile.
    return True
