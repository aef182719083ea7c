"""Health: named checks, polled on a thread, say whether the CRM service is SERVING."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from grpc_health.v1 import health, health_pb2

from services.crm.application import CustomerHistory
from services.crm.application.bounds import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# A check passes when it returns True; False or an exception fails it.
Check = Callable[[], bool]
# How long the database check waits for a connection: with a 1 s interval, the
# service reads NOT_SERVING within 5 s of losing the database.
DATABASE_CHECK_SECONDS = 2.0


class HealthStatus(health.HealthServicer):  # type: ignore[misc]
    """grpc's health servicer, which sends a new status to Watch streams after
    releasing its lock: sending under it deadlocks the server against a watcher that
    closes meanwhile, whose close callback, run by the server's poller, waits for it."""

    def __init__(self) -> None:
        super().__init__(experimental_non_blocking=True)

    def set(self, service: str, status: Any) -> None:
        with self._lock:
            if self._gracefully_shutting_down:
                return
            self._server_status[service] = status
            watchers = list(self._send_response_callbacks.get(service, ()))
        for send in watchers:
            send(health_pb2.HealthCheckResponse(status=status))

    def enter_graceful_shutdown(self) -> None:
        with self._lock:
            services = list(self._server_status)
        for service in services:
            self.set(service, NOT_SERVING)
        with self._lock:
            self._gracefully_shutting_down = True


class HealthMonitor:
    """Runs every named check each interval; the service is SERVING while all pass."""

    def __init__(
        self,
        status: HealthStatus,
        service: str,
        interval: float,
        checks: Iterable[tuple[str, Check]] = (),
    ) -> None:
        self._status = status
        self._service = service
        self._interval = interval
        self._checks: dict[str, Check] = dict(checks)
        self._failing: list[str] | None = None
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="health", daemon=True)

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def check_now(self) -> list[str]:
        """Runs the checks, sets the status, and returns the names of those failing."""
        failing = [name for name, check in list(self._checks.items()) if not _passes(name, check)]
        if failing != self._failing:
            logger.log(
                logging.WARNING if failing else logging.INFO,
                "health changed",
                extra={
                    "fields": {
                        "service": self._service,
                        "status": "NOT_SERVING" if failing else "SERVING",
                        "failing": ",".join(failing),
                    }
                },
            )
            self._failing = failing
            self._status.set(self._service, NOT_SERVING if failing else SERVING)
        return failing

    def start(self) -> None:
        self.check_now()
        self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._poller.is_alive():
            self._poller.join()

    def _poll(self) -> None:
        while not self._stopping.wait(self._interval):
            self.check_now()


def _passes(name: str, check: Check) -> bool:
    try:
        return check()
    except Exception:
        logger.warning("health check failed", exc_info=True, extra={"fields": {"check": name}})
        return False


def database_check(app: CustomerHistory) -> Check:
    """Whether the database answers a query now. After it did not, the pools'
    broken connections are replaced before the service says SERVING again."""
    was_down = False

    def database_reachable() -> bool:
        nonlocal was_down
        try:
            app.check_database(DATABASE_CHECK_SECONDS)
        except DATABASE_UNAVAILABLE:
            try:  # A connection the database dropped fails once; a second one tells.
                app.check_database(DATABASE_CHECK_SECONDS)
            except DATABASE_UNAVAILABLE:
                was_down = True
                return False
        if was_down:
            app.refresh_connections()
            was_down = False
        return True

    return database_reachable
