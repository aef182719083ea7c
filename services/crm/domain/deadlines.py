"""Deadlines: "if it has not been cancelled by this time, record that it fell due".

A Deadline is an aggregate of its own, its id uuid5 of its key, so whatever owns it
(a case's SLA clock, a promised call-back) names it without storing its id, and saves
it in the same transaction as its own events: `app.save(case, schedule_deadline(...))`.
Its life is Scheduled (perhaps Rescheduled), then Cancelled or Fired, never both: each
would be the aggregate's next version, and the event store takes one event per version. The
engine (services/crm/deadlines) records Fired; features react to Fired events whose
consequence names theirs.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics

MAX_KEY_LENGTH = 200


class DeadlineError(ValueError):
    """A deadline asked to do what its state forbids (a programming error, not input)."""


@stable_topics("Deadline")
class Deadline(Aggregate):
    """One deadline; pending until cancelled or fired."""

    @staticmethod
    def create_id(key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"deadline/{key}")

    class Scheduled(Aggregate.Created):
        key: str
        due_time: datetime
        consequence: str
        payload: dict[str, str]

    class Rescheduled(Aggregate.Event):
        due_time: datetime

    class Cancelled(Aggregate.Event):
        pass

    class Fired(Aggregate.Event):
        """The deadline fell due; recorded once, by the deadline engine."""

        key: str
        due_time: datetime
        consequence: str
        payload: dict[str, str]

    @event(Scheduled)
    def __init__(
        self, key: str, due_time: datetime, consequence: str, payload: dict[str, str]
    ) -> None:
        self.key = key
        self.due_time = due_time
        self.consequence = consequence
        self.payload = payload
        self.state = "pending"

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    def reschedule(self, due_time: datetime) -> None:
        """Moves a pending deadline, e.g. when a case's priority changes its SLA."""
        if not self.pending:
            raise DeadlineError(f"a deadline that is {self.state} cannot move")
        _check_due_time(due_time)
        if due_time != self.due_time:
            self._rescheduled(due_time=due_time)

    def cancel(self) -> None:
        if self.pending:
            self._cancelled()

    def fire(self) -> None:
        if not self.pending:
            raise DeadlineError(f"a deadline that is {self.state} cannot fire")
        self._fired(
            key=self.key,
            due_time=self.due_time,
            consequence=self.consequence,
            payload=dict(self.payload),
        )

    @event(Rescheduled)
    def _rescheduled(self, due_time: datetime) -> None:
        self.due_time = due_time

    @event(Cancelled)
    def _cancelled(self) -> None:
        self.state = "cancelled"

    @event(Fired)
    def _fired(
        self, key: str, due_time: datetime, consequence: str, payload: dict[str, str]
    ) -> None:
        self.state = "fired"


def schedule_deadline(
    key: str, due_time: datetime, consequence: str, payload: dict[str, str] | None = None
) -> Deadline:
    """A new pending deadline, to be saved with the events that called for it.
    consequence names what falls due (e.g. "case.first_response_breached"); the
    payload says which (ids, never personal data)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DeadlineError(f"a deadline key has 1 to {MAX_KEY_LENGTH} characters")
    _check_due_time(due_time)
    return Deadline(key=key, due_time=due_time, consequence=consequence, payload=payload or {})


def _check_due_time(due_time: datetime) -> None:
    if due_time.tzinfo is None:
        raise DeadlineError("a deadline's due time must say its time zone")
