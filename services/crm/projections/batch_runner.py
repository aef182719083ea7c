"""Follows the event log into a read model, many events to a transaction.

One thread reads notifications from the library's subscription (woken by LISTEN/
NOTIFY on PostgreSQL, by polling on SQLite); another applies whatever has arrived,
up to MAX_BATCH events, in one transaction with the last tracking position. Under
load the read model pays one commit for many events, and when the log is quiet a
single event is applied at once.

An event that cannot be applied never stalls the read model: when a batch fails for
any reason but the database's (see parked_events.is_transient), its events are
applied one at a time, and one that fails alone is parked: recorded with the error's
class, logged without its message, and passed, in one transaction.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification, Tracking

from services.crm.application import CustomerHistory
from services.crm.projections.parked_events import (
    ParkedEvent,
    error_class,
    error_frames,
    is_transient,
)

logger = logging.getLogger(__name__)
MAX_BATCH = 500
_END = object()
# Told the read model's name and how many events of a batch it applied (metrics).
AppliedObserver = Callable[[str, int], None]


class ChangeProjection(Protocol):
    """A projection as this runner drives it: the read-model changes each event makes,
    applied in batches by its view, which also parks events (sql_read_model)."""

    name: str

    def __init__(self, view: Any) -> None: ...

    @property
    def view(self) -> Any: ...

    def changes(self, event: Any) -> Sequence[Any]: ...

    def wants(self, topic: str) -> bool:
        """Whether events of this topic can change the view: others are not decoded."""
        ...


def follow_log(
    env: Mapping[str, str],
    projection: ChangeProjection,
    stopping: threading.Event,
    on_applied: AppliedObserver | None = None,
) -> None:
    """Apply the log to projection.view from its tracked position until stopping is
    set; raises what applying raised, leaving the position at the last commit."""
    app = CustomerHistory(env=dict(env))
    arrived: queue.Queue[Any] = queue.Queue(maxsize=4 * MAX_BATCH)
    start = projection.view.max_tracking_id(app.name)
    try:
        with app.recorder.subscribe(gt=start) as subscription:
            reader = threading.Thread(
                target=_read, args=(subscription, arrived), name="log-reader", daemon=True
            )
            reader.start()
            try:
                while not stopping.is_set():
                    batch = _next_batch(arrived)
                    if batch:
                        parked = apply_or_park(app, projection, batch)
                        if on_applied is not None:
                            on_applied(projection.name, len(batch) - parked)
            finally:
                subscription.stop()
                _drain(arrived)
                reader.join(5)
    finally:
        app.close()


def _read(subscription: Any, arrived: queue.Queue[Any]) -> None:
    try:
        for notification in subscription:
            arrived.put(notification)
    except Exception as error:  # The applying thread raises it, so the supervisor restarts.
        arrived.put(error)
    arrived.put(_END)


def _next_batch(arrived: queue.Queue[Any]) -> list[Notification]:
    try:
        first = arrived.get(timeout=0.2)
    except queue.Empty:
        return []
    batch = [first]
    while len(batch) < MAX_BATCH:
        try:
            batch.append(arrived.get_nowait())
        except queue.Empty:
            break
    for item in batch:
        if isinstance(item, Exception):
            raise item
        if item is _END:
            raise RuntimeError("the log subscription ended")
    return batch


def apply_or_park(
    app: CustomerHistory, projection: ChangeProjection, notifications: Sequence[Notification]
) -> int:
    """Apply the notifications in one transaction, or else one at a time, parking each
    that fails alone; returns how many were parked. Transient errors are raised, so
    the supervisor starts again from the last commit."""
    try:
        projection.view.apply(changes_of(app, projection, notifications))
        return 0
    except Exception as error:
        if is_transient(error):
            raise
        if len(notifications) == 1:
            _park(app, projection, notifications[0], error)
            return 1
        logger.warning(
            "a batch failed; applying its events one at a time",
            extra={
                "fields": {
                    "read_model": projection.name,
                    "first_position": notifications[0].id,
                    "last_position": notifications[-1].id,
                    "error_class": error_class(error),
                }
            },
        )
    return sum(apply_or_park(app, projection, [n]) for n in notifications)


def _park(
    app: CustomerHistory, projection: ChangeProjection, notification: Notification, error: Exception
) -> None:
    parked = ParkedEvent(
        position=notification.id,
        topic=notification.topic,
        originator_id=str(notification.originator_id),
        error_class=error_class(error),
        parked_at=app.clock(),
    )
    projection.view.park(parked, Tracking(app.name, notification.id))
    # The error's message may quote the event's personal data, so only its class is logged.
    logger.error(
        "projection parked an event it cannot apply",
        extra={
            "fields": {
                "read_model": projection.name,
                "position": parked.position,
                "topic": parked.topic,
                "originator_id": parked.originator_id,
                "error_class": parked.error_class,
                "raised_at": error_frames(error),
            }
        },
    )


def changes_of(
    app: CustomerHistory, projection: ChangeProjection, notifications: Sequence[Notification]
) -> list[tuple[Sequence[Any], Tracking]]:
    """Each notification's changes to the view with its tracking position; events the
    projection ignores still advance the position, so reads waiting on it see it."""
    return [
        (
            projection.changes(app.mapper.to_domain_event(n)) if projection.wants(n.topic) else (),
            Tracking(app.name, n.id),
        )
        for n in notifications
    ]


def _drain(arrived: queue.Queue[Any]) -> None:
    """Unblocks a reader stuck on a full queue, so it can see the stop."""
    while True:
        try:
            arrived.get_nowait()
        except queue.Empty:
            return
