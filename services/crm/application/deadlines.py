"""Use cases for deadlines: schedule, move, cancel, and record that one fell due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
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


class Firing(Enum):
    FIRED = "fired"
    ENDED = "ended"  # Cancelled, or fired by an earlier attempt or another engine.
    # Still pending: moved later than the read model has seen yet, or moved while this
    # attempt was made. Its row stays, for the next pass.
    NOT_DUE = "not due"


def reschedule(app: CustomerHistoryBase, key: str, due_time: datetime) -> bool:
    """Whether this moved a pending deadline (not one that fired or was cancelled)."""
    deadline = find_deadline(app, Deadline.create_id(key))
    return _change_pending(app, deadline, lambda d: d.reschedule(due_time))


def cancel(app: CustomerHistoryBase, key: str) -> bool:
    """Whether this cancelled a pending deadline (not one already fired)."""
    return _change_pending(app, find_deadline(app, Deadline.create_id(key)), Deadline.cancel)


def fire(app: CustomerHistoryBase, deadline_id: UUID, now: datetime) -> Firing:
    """Records that a pending deadline fell due by now. Another attempt finds it fired,
    or collides with the first on its next version, and is told ENDED."""
    deadline = find_deadline(app, deadline_id)
    if deadline is not None and deadline.pending and deadline.due_time > now:
        return Firing.NOT_DUE
    if _change_pending(app, deadline, Deadline.fire):
        return Firing.FIRED
    # The collision may have been a move, not an end: then it is still pending.
    now_stored = find_deadline(app, deadline_id)
    return Firing.NOT_DUE if now_stored is not None and now_stored.pending else Firing.ENDED


def _change_pending(
    app: CustomerHistoryBase, deadline: Deadline | None, change: Callable[[Deadline], None]
) -> bool:
    if deadline is None or not deadline.pending:
        return False
    change(deadline)
    try:
        app.save(deadline)
    except IntegrityError:
        return False  # Another change (fired, cancelled) took its next version meanwhile.
    return True
