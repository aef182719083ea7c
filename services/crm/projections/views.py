"""Opens the timeline view on whichever database the environment selects."""

from __future__ import annotations

from collections.abc import Mapping

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from services.crm.projections.postgres_timeline import PostgresTimelineView
from services.crm.projections.sqlite_timeline import SQLiteTimelineView
from services.crm.projections.timeline import TimelineProjection
from services.crm.projections.timeline_view import TimelineView


def timeline_view_class(env: Mapping[str, str]) -> type[TimelineView]:
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        return SQLiteTimelineView
    return PostgresTimelineView


def open_timeline_view(env: Mapping[str, str]) -> TimelineView:
    """The view the projection runner writes, named after the projection as it names it."""
    factory = InfrastructureFactory[TimelineView].construct(
        env=Environment(TimelineProjection.name, dict(env))
    )
    return factory.tracking_recorder(timeline_view_class(env))
