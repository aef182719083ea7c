"""What tests read back about deadlines: which fired, and in what order, from the log."""

from __future__ import annotations

from datetime import UTC, datetime

from services.crm.application import CustomerHistory
from services.crm.domain.deadlines import Deadline

# An arbitrary instant: deadlines run on a test clock, never on the system's.
START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
FIRED_TOPIC = "crm.Deadline.Fired"


def fired_keys(app: CustomerHistory) -> list[str]:
    """The key of every Fired event in the log, in log order (a key twice if it fired twice)."""
    keys = []
    for notification in app.recorder.select_notifications(start=1, limit=100_000):
        if notification.topic == FIRED_TOPIC:
            event = app.mapper.to_domain_event(notification)
            assert isinstance(event, Deadline.Fired)
            keys.append(event.key)
    return keys
