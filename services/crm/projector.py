"""The projections in a process of their own: a child of the service, or a deployment.

Python runs one thread at a time per process, so projections beside the request
handlers take turns with them; in their own process they use another core.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.crm.child_processes import child_environ, die_with_parent
from services.crm.config import Settings
from services.crm.lease import Lease
from services.crm.metrics.projector import ProjectorMetrics, applied_observer
from services.crm.projections.batch_runner import AppliedObserver
from services.crm.projections.runner import (
    READ_MODELS,
    ProjectionSupervisor,
    Rebuilt,
    rebuild_read_model,
)
from services.crm.stop_signals import StopSignals
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

logger = logging.getLogger(__name__)
PARENT_PID = "CRM_PROJECTOR_PARENT_PID"
_WATCH_SECONDS = 0.2  # How soon a signal, the parent's end or a lost lease is seen.


class ProjectionProcess:
    """Keeps one `python -m services.crm project` child running until stop()."""

    def __init__(self, settings: Settings, restart_delay: float = 1.0) -> None:
        self.settings = settings
        self.restart_delay = restart_delay
        self.restarts = 0
        self._stopping = threading.Event()
        self._child: subprocess.Popen[bytes] | None = None
        self._started = threading.Event()
        self._spawning = threading.Lock()
        # The child asks to die with the thread that started it, so one thread starts
        # every child and lives until stop().
        self._keeper = threading.Thread(target=self._keep_running, name="projector", daemon=True)

    def start(self) -> None:
        self._keeper.start()
        self._started.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Asks the child to finish its batch and go; after timeout, it is killed."""
        with self._spawning:
            self._stopping.set()
            child = self._child
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self._keeper.join(timeout)

    def _keep_running(self) -> None:
        while True:
            with self._spawning:  # No child is started once stop() has looked.
                if self._stopping.is_set():
                    self._started.set()
                    return
                try:
                    child = self._child = self._spawn()
                except OSError:
                    child = None
                    logger.exception("cannot start the projector; trying again")
            self._started.set()
            code = None if child is None else child.wait()
            if self._stopping.is_set():
                return
            self.restarts += 1
            if child is not None:
                logger.error("projector exited; restarting", extra={"fields": {"exit_code": code}})
            self._stopping.wait(self.restart_delay)

    def _spawn(self) -> subprocess.Popen[bytes]:
        # A session of its own: Ctrl-C reaches the service, which then stops the child,
        # rather than both at once and a restart in the middle of shutting down.
        return subprocess.Popen(
            [sys.executable, "-m", "services.crm", "project"],
            env=self._child_env(),
            start_new_session=True,
        )

    def _child_env(self) -> dict[str, str]:
        return child_environ(
            CRM_DATABASE_URL=self.settings.database_url,
            CRM_LOG_LEVEL=self.settings.log_level,
            **{PARENT_PID: str(os.getpid())},
        )


def run_projector(settings: Settings) -> int:
    """Follow the log into every read model until SIGTERM, SIGINT or, for a child of
    the service, the service's end. On PostgreSQL only the holder of the "projector"
    lease projects; others wait as standbys. A holder that loses the lease stops its
    projections and stands by again; if it cannot be sure they stopped, it returns 1,
    so the process exits and whoever runs it starts it again."""
    parent = int(os.environ.get(PARENT_PID, "0"))
    if parent:
        die_with_parent()
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    signals = StopSignals()
    applied = applied_observer(settings)
    # A child's port would clash with its service's, which reports the same lag.
    metrics = None if parent or not settings.metrics_address else ProjectorMetrics(settings, env)
    metrics_port = metrics.port if metrics else None

    def ending() -> bool:
        # The parent may have died before the death signal was asked for.
        return bool(signals.received) or (bool(parent) and os.getppid() != parent)

    projection = _Projection(env, applied, metrics_port)
    try:
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            code = _project_while_leased(projection, settings.lease_retry_seconds, signals, ending)
        else:
            code = 0
            projection.run(lambda: signals.wait(_WATCH_SECONDS, or_until=ending))
    finally:
        if metrics is not None:
            metrics.stop()
    logger.info("projector stopped")
    return code


def _project_while_leased(
    projection: _Projection, retry_seconds: float, signals: StopSignals, ending: Callable[[], bool]
) -> int:
    with Lease("projector", projection.env, retry_seconds) as lease:
        while lease.acquire(ending):
            ensure_postgres_schema(projection.env)
            stopped = projection.run(
                lambda: signals.wait(_WATCH_SECONDS, or_until=lambda: ending() or not lease.held()),
            )
            if ending():
                break
            # A lease whose connection hangs, rather than fails, is not known to be over.
            if not (stopped and lease.lost.is_set()):
                logger.error("projector exiting: it lost the lease")
                return 1
            logger.warning("projector lost the lease; standing by")
    return 0


@dataclass(frozen=True)
class _Projection:
    env: dict[str, str]
    on_applied: AppliedObserver | None
    metrics_port: int | None

    def run(self, wait: Callable[[], None]) -> bool:
        """The read models kept up until wait() returns; whether every projection stopped."""
        supervisors = [
            ProjectionSupervisor(self.env, read_model, on_applied=self.on_applied)
            for read_model in READ_MODELS
        ]
        for supervisor in supervisors:
            supervisor.start()
        logger.info(
            "projecting",
            extra={"fields": {"read_models": len(supervisors), "metrics_port": self.metrics_port}},
        )
        wait()
        for supervisor in supervisors:
            supervisor.request_stop()  # All at once: each then ends its batch in hand.
        for supervisor in supervisors:
            supervisor.stop()
        return not any(supervisor.running for supervisor in supervisors)


class ProjectorRunningError(RuntimeError):
    """Another process holds the projector lease: a rebuild would race it."""


def rebuild_projections(settings: Settings) -> list[Rebuilt]:
    """Replays the log into every read model anew. On PostgreSQL it holds the projector
    lease meanwhile, so no projector writes the tables it is replacing; one that holds
    the lease now makes it raise ProjectorRunningError."""
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        return [rebuild_read_model(env, read_model) for read_model in READ_MODELS]
    with Lease("projector", env, settings.lease_retry_seconds) as lease:
        # A projector that is just stopping lets go within one retry.
        until = time.monotonic() + 2 * settings.lease_retry_seconds
        if not lease.acquire(lambda: time.monotonic() > until):
            raise ProjectorRunningError
        return [rebuild_read_model(env, read_model) for read_model in READ_MODELS]
