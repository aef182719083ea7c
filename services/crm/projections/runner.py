"""Keeps the timeline projection running beside the service, and rebuilds it from zero."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.projection import ProjectionRunner
from eventsourcing.utils import Environment

from services.crm.application import CustomerHistory
from services.crm.projections.postgres_timeline_store import PostgresTimelineStore
from services.crm.projections.sqlite_timeline_store import SQLiteTimelineStore
from services.crm.projections.timeline_projection import TimelineProjection
from services.crm.projections.timeline_store import TimelineStore

logger = logging.getLogger(__name__)


def timeline_store_class(env: Mapping[str, str]) -> type[TimelineStore]:
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        return SQLiteTimelineStore
    return PostgresTimelineStore


def open_timeline_store(env: Mapping[str, str]) -> TimelineStore:
    """The store the projection runner writes, configured as the runner configures it."""
    factory = InfrastructureFactory[TimelineStore].construct(
        env=Environment(TimelineProjection.name, dict(env))
    )
    return factory.tracking_recorder(timeline_store_class(env))


def open_application(env: Mapping[str, str]) -> CustomerHistory:
    """The application with its timeline read model, as the service uses it."""
    return CustomerHistory(env=dict(env), timeline=lambda: open_timeline_store(env))


class ProjectionSupervisor:
    """Follows the event log into the timeline; after an error it starts again from
    the last tracked position, so nothing is skipped and nothing applied twice."""

    def __init__(
        self,
        env: Mapping[str, str],
        projection_class: type[TimelineProjection] = TimelineProjection,
        restart_delay: float = 1.0,
    ) -> None:
        self.env = dict(env)
        self.projection_class = projection_class
        self.restart_delay = restart_delay
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timeline-projection", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow_log()
            except Exception:
                self.restarts += 1
                logger.exception("timeline projection failed; restarting")
                self._stopping.wait(self.restart_delay)

    def _follow_log(self) -> None:
        with ProjectionRunner(
            application_class=CustomerHistory,
            projection_class=self.projection_class,
            view_class=timeline_store_class(self.env),
            env=self.env,
        ) as runner:
            while not self._stopping.is_set():
                runner.run_forever(timeout=0.2)


def rebuild_timeline(env: Mapping[str, str], batch_size: int = 500) -> int:
    """Drop the timeline and replay the whole log into it; returns the events replayed."""
    store = open_timeline_store(env)
    store.drop()
    projection = TimelineProjection(store)
    app = CustomerHistory(env=dict(env))
    try:
        replayed, last = 0, 0
        while notifications := app.recorder.select_notifications(
            start=last, limit=batch_size, inclusive_of_start=False
        ):
            for notification in notifications:
                event = app.mapper.to_domain_event(notification)
                projection.process_event(event, Tracking(app.name, notification.id))
            replayed += len(notifications)
            last = notifications[-1].id
        return replayed
    finally:
        app.close()
        store.close()
