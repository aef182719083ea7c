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

from services.crm.child_processes import child_environ, die_with_parent
from services.crm.config import Settings
from services.crm.projections.runner import READ_MODELS, ProjectionSupervisor
from services.crm.stop_signals import StopSignals
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

logger = logging.getLogger(__name__)
PARENT_PID = "CRM_PROJECTOR_PARENT_PID"


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


def run_projector(settings: Settings) -> None:
    """Follow the log into every read model until SIGTERM, SIGINT or, for a child of
    the service, the service's end."""
    parent = int(os.environ.get(PARENT_PID, "0"))
    if parent:
        die_with_parent()
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        ensure_postgres_schema(env)
    signals = StopSignals()
    supervisors = [ProjectionSupervisor(env, read_model) for read_model in READ_MODELS]
    for supervisor in supervisors:
        supervisor.start()
    logger.info("projecting", extra={"fields": {"read_models": len(supervisors)}})
    # The parent may have died before the death signal was asked for.
    signals.wait(0.5, or_until=lambda: bool(parent) and os.getppid() != parent)
    for supervisor in supervisors:
        supervisor.request_stop()  # All at once: each then ends its batch in hand.
    for supervisor in supervisors:
        supervisor.stop()
    logger.info("projector stopped")
