"""A projector deployed on its own serves its read models' lag, parked events and
events applied; a projector started by a serving process leaves that to the service."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from services.crm.config import Settings
from services.crm.metrics.feeds import observe_events_applied, read_model_observer
from services.crm.metrics.wiring import listen
from services.crm.projections.batch_runner import AppliedObserver
from services.crm.projections.health import ProjectionHealth
from services.crm.projections.runner import open_application


def applied_observer(settings: Settings) -> AppliedObserver | None:
    return observe_events_applied if settings.metrics_address else None


class ProjectorMetrics:
    """Serves the scrape, and reads the read models' statuses every health interval."""

    def __init__(self, settings: Settings, env: Mapping[str, str]) -> None:
        self._app = open_application(env)
        self._health = ProjectionHealth(
            self._app,
            settings.projection_stall_seconds,
            observe=read_model_observer(self._app, pools=False),
        )
        self._interval = settings.health_interval_seconds
        self._server = listen(settings.metrics_address)
        self.port = self._server.port
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="metrics", daemon=True)
        self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        self._poller.join()
        self._server.close()
        self._app.close()

    def _poll(self) -> None:
        while True:
            # A failed read leaves the gauges as they were; health logs its own failures.
            self._health.healthy()
            if self._stopping.wait(self._interval):
                return
