"""Follows the event log into a read model, many events to a transaction.

One thread reads notifications from the library's subscription (woken by LISTEN/
NOTIFY on PostgreSQL, by polling on SQLite); another applies whatever has arrived,
up to MAX_BATCH events, in one transaction with the last tracking position. Under
load the read model pays one commit for many events, and when the log is quiet a
single event is applied at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification, Tracking

from services.crm.application import CustomerHistory

MAX_BATCH = 500
_END = object()


class ChangeProjection(Protocol):
    """A projection as this runner drives it: the read-model changes each event makes,
    applied in batches by its view."""

    name: str

    def __init__(self, view: Any) -> None: ...

    @property
    def view(self) -> Any: ...

    def changes(self, event: Any) -> Sequence[Any]: ...

    def wants(self, topic: str) -> bool:
        """Whether events of this topic can change the view: others are not decoded."""
        ...


def follow_log(
    env: Mapping[str, str], projection: ChangeProjection, stopping: threading.Event
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
                        _apply(app, projection, batch)
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


def _apply(app: CustomerHistory, projection: ChangeProjection, batch: list[Notification]) -> None:
    projection.view.apply(changes_of(app, projection, batch))


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
