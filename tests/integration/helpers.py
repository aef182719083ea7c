"""Helpers for the integration scenarios."""

from __future__ import annotations

from uuid import UUID

from services.crm.application import CustomerHistory, TimelinePage
from services.crm.domain.interaction import InteractionRecord
from services.crm.projections.timeline_store import TimelineQuery, TimelineRow


def all_rows(app: CustomerHistory, customer_id: UUID) -> list[TimelineRow]:
    query = TimelineQuery(customer_id=customer_id, limit=1_000_000)
    return app.timeline.select_entries(query, app.name).rows


def wait_caught_up(app: CustomerHistory, timeout: float = 60.0) -> None:
    """Until the timeline and the directory include everything written so far."""
    log_end = app.recorder.max_notification_id() or 0
    app.wait_for_position(log_end, timeout)
    app.wait_for_position(log_end, timeout, app.directory)


def interactions(page: TimelinePage) -> list[InteractionRecord]:
    """The interactions of a timeline page, without its identity and merge entries."""
    return [entry.item for entry in page.entries if isinstance(entry.item, InteractionRecord)]
