"""Use cases for auditors: the event log itself, replayed in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Notification

from services.crm.application.base import CustomerHistoryBase
from services.crm.domain.errors import InvalidInputError
from services.crm.transcoder import stored_cause


@dataclass(frozen=True)
class LoggedEvent:
    position: int
    topic: str
    aggregate_id: UUID | str
    aggregate_version: int
    recorded_at: datetime
    actor: str
    correlation_id: str
    state: bytes


class AuditUseCases(CustomerHistoryBase):
    def replay(
        self, after: int, up_to: int, page_size: int, keep_going: Callable[[], bool]
    ) -> Iterator[list[LoggedEvent]]:
        """Pages of events after `after` up to `up_to` (0: the log's end now), read a
        page at a time. Checks the request before the first page is asked for."""
        end = self._log_end()
        up_to = up_to or end
        if after < 0 or up_to < after or up_to > end:
            raise InvalidInputError.single(
                "after_position" if after < 0 or after > end else "up_to_position",
                "INVALID_POSITION_RANGE",
                f"need 0 <= after_position <= up_to_position <= {end} (the log's end)",
            )
        return self._pages(after, up_to, page_size, keep_going)

    def _pages(
        self, cursor: int, up_to: int, page_size: int, keep_going: Callable[[], bool]
    ) -> Iterator[list[LoggedEvent]]:
        while cursor < up_to and keep_going():
            notifications = self.recorder.select_notifications(
                start=cursor, limit=page_size, stop=up_to, inclusive_of_start=False
            )
            if not notifications:
                return
            page = [self._logged(notification) for notification in notifications]
            cursor = notifications[-1].id
            yield page

    def _logged(self, notification: Notification) -> LoggedEvent:
        if self.mapper.cipher or self.mapper.compressor:
            event = self.mapper.to_domain_event(notification)
            cause = getattr(event, "cause", None)
            actor = getattr(cause, "actor", "")
            correlation_id = getattr(cause, "correlation_id", "")
            recorded_at = cast(DomainEvent, event).timestamp
        else:
            # Every event of the log passes here: who and when are read from the
            # stored JSON, without rebuilding the event object.
            actor, correlation_id, recorded_at = stored_cause(notification.state)
        return LoggedEvent(
            position=notification.id,
            topic=notification.topic,
            aggregate_id=notification.originator_id,
            aggregate_version=notification.originator_version,
            recorded_at=recorded_at,
            actor=actor,
            correlation_id=correlation_id,
            state=notification.state,
        )
