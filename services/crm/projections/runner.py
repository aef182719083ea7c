"""Keeps the timeline projection running beside the service, and rebuilds it from zero."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from eventsourcing.persistence import Tracking
from eventsourcing.projection import ProjectionRunner

from services.crm.application import CustomerHistory
from services.crm.projections.timeline import TimelineProjection
from services.crm.projections.views import open_timeline_view, timeline_view_class

logger = logging.getLogger(__name__)


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
            view_class=timeline_view_class(self.env),
            env=self.env,
        ) as runner:
            while not self._stopping.is_set():
                runner.run_forever(timeout=0.2)


def rebuild_timeline(env: Mapping[str, str], batch_size: int = 500) -> int:
    """Drop the timeline and replay the whole log into it; returns the events replayed."""
    view = open_timeline_view(env)
    view.drop()
    projection = TimelineProjection(view)
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
        view.close()
