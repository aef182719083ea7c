"""The deadline projection: keeps the pending deadlines in step with the log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from services.crm.deadlines.store import (
    DeadlineChange,
    DeadlineEnded,
    DeadlineStore,
    PendingDeadline,
    PostgresDeadlineStore,
    SQLiteDeadlineStore,
)
from services.crm.domain.deadlines import Deadline
from services.crm.projections.runner import ReadModel


class DeadlineProjection(Projection[DeadlineStore]):
    name = "deadlines"

    def wants(self, topic: str) -> bool:
        return topic.startswith("crm.Deadline.")

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply([(self.changes(domain_event), tracking)])

    def changes(self, event: Any) -> list[DeadlineChange]:
        if isinstance(event, Deadline.Scheduled | Deadline.Rescheduled):
            return [PendingDeadline(event.originator_id, event.due_time)]
        if isinstance(event, Deadline.Cancelled | Deadline.Fired):
            return [DeadlineEnded(event.originator_id)]
        return []


DEADLINES = ReadModel(DeadlineProjection, SQLiteDeadlineStore, PostgresDeadlineStore)


def open_deadline_store(env: Mapping[str, str]) -> DeadlineStore:
    store: DeadlineStore = DEADLINES.open(env)
    return store
