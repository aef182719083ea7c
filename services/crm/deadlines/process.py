"""`crm deadlines`: the deadline engine as a process of its own, once per deployment.

On PostgreSQL only the holder of the "deadlines" lease fires; others wait as standbys.
SQLite needs no lease: one process holds the file. Firing twice at once would still
record each deadline once (see __init__); the lease keeps the work in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from services.crm.application import CustomerHistory
from services.crm.config import Settings
from services.crm.deadlines.clock import clock_from
from services.crm.deadlines.engine import DeadlineEngine
from services.crm.deadlines.projection import DEADLINES, open_deadline_store
from services.crm.lease import Lease
from services.crm.projections.parked_events import error_class
from services.crm.projections.runner import ProjectionSupervisor
from services.crm.stop_signals import StopSignals
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

logger = logging.getLogger(__name__)


def run_deadlines(settings: Settings) -> int:
    """Fire deadlines until SIGTERM or SIGINT; 1 if the lease was lost while firing."""
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    signals = StopSignals()

    def stopping() -> bool:
        return bool(signals.received)

    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        _fire_until(env, settings, stopping)
    else:
        with Lease("deadlines", env, settings.lease_retry_seconds) as lease:
            if lease.acquire(stopping):
                ensure_postgres_schema(env)
                _fire_until(env, settings, lambda: stopping() or not lease.held())
                if not stopping():
                    # Whoever runs it starts it again, as a standby.
                    logger.error("deadline engine exiting: it lost the lease")
                    return 1
    logger.info("deadline engine stopped")
    return 0


def _fire_until(env: Mapping[str, str], settings: Settings, stopping: Callable[[], bool]) -> None:
    """Keeps the pending deadlines up to date and fires the due ones until stopping()."""
    projection = ProjectionSupervisor(env, DEADLINES)
    projection.start()
    app = CustomerHistory(env=dict(env))
    store = open_deadline_store(env)
    try:
        engine = DeadlineEngine(
            app, store, clock_from(settings.clock), settings.deadlines_test_crash
        )
        logger.info("deadline engine running")
        while not stopping():
            try:
                engine.fire_due(stopping)
            except Exception as error:
                # What is due stays in the read model: the next pass tries it again.
                logger.error(
                    "firing deadlines failed; trying again",
                    extra={"fields": {"error_class": error_class(error)}},
                )
            _pause(settings.deadlines_poll_seconds, stopping)
    finally:
        projection.stop()
        store.close()
        app.close()


def _pause(seconds: float, stopping: Callable[[], bool]) -> None:
    until = time.monotonic() + seconds
    while not stopping() and time.monotonic() < until:
        time.sleep(min(0.05, seconds))
