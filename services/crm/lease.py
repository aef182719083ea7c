"""A lease that one process per deployment holds, named by purpose: a PostgreSQL
session-level advisory lock.

Whatever must run once (the projector; the deadline engine) holds the lease of
its name. The lock lives as long as the holder's connection: a holder that dies loses
it as soon as the server sees the connection close (at once for a killed process,
within KEEPALIVE_SECONDS for a host that vanished). A standby tries again every
retry_seconds, so it takes over within a second or two of a holder dying. The holder
confirms its connection every check interval; a lease it cannot confirm for
STALE_SECONDS counts as lost, so a holder cut off from the database stops before the
server frees its lock for someone else.

The key is 64 bits of SHA-256 over the lease's name and the eventsourcing schema:
advisory locks are per database already, and the schema keeps two deployments (or
two test schemas) in one database apart. SQLite needs no lease: one process holds
the file, and the service runs its projections itself.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import psycopg

from services.crm.storage import postgres_connection_settings

logger = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 6  # 3 idle + 3 probes 1 s apart, on both ends of the connection.
STALE_SECONDS = 3.0  # Under KEEPALIVE_SECONDS: the holder gives up before a standby can start.
_KEEPALIVES: dict[str, Any] = {
    # The client's socket: the holder learns of a dead server or network.
    "keepalives": 1,
    "keepalives_idle": 3,
    "keepalives_interval": 1,
    "keepalives_count": 3,
    "tcp_user_timeout": KEEPALIVE_SECONDS * 1000,
    # The server's socket: the server frees the lock of a holder whose host vanished.
    "options": (
        "-c tcp_keepalives_idle=3 -c tcp_keepalives_interval=1 -c tcp_keepalives_count=3 "
        f"-c tcp_user_timeout={KEEPALIVE_SECONDS * 1000}"
    ),
}
_PAUSE_STEP = 0.05


def lease_key(name: str, schema: str) -> int:
    """The advisory lock's bigint key for a lease name in an eventsourcing schema."""
    digest = hashlib.sha256(f"crm lease\0{schema}\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Lease:
    """acquire() blocks until held or asked to stop; lost is set once it is no longer
    held; release() gives it up. Use it as a context manager to release on leaving."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.key = lease_key(name, env.get("POSTGRES_SCHEMA", "public"))
        self.retry_seconds = retry_seconds
        self.check_seconds = min(retry_seconds, 1.0)
        self.lost = threading.Event()
        self._connect = {
            **postgres_connection_settings(env),
            **_KEEPALIVES,
            "application_name": f"crm lease {name}"[:63],
            "autocommit": True,
        }
        self._clock = clock
        self._connection: psycopg.Connection[Any] | None = None
        self._confirmed = -math.inf
        self._released = threading.Event()
        self._checker: threading.Thread | None = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self, stopping: Callable[[], bool]) -> bool:
        """True once this process holds the lease; False if stopping() held first.
        After the lease was lost, it may be acquired again."""
        self._end_session()
        standby = False
        while not stopping():
            if self._try():
                logger.info("active", extra={"fields": {"lease": self.name}})
                self._checker = threading.Thread(
                    target=self._check, name=f"lease-{self.name}", daemon=True
                )
                self._checker.start()
                return True
            if not standby:
                logger.info("standby", extra={"fields": {"lease": self.name}})
                standby = True
            self._pause(stopping)
        return False

    def held(self) -> bool:
        """Whether the lease is held and was confirmed within STALE_SECONDS."""
        return (
            self._checker is not None
            and not self.lost.is_set()
            and not self._released.is_set()
            and self._clock() - self._confirmed < STALE_SECONDS
        )

    def release(self) -> None:
        """Gives the lease up: closing the connection ends the lock with its session."""
        self._released.set()
        if self._checker is not None:
            self._checker.join(STALE_SECONDS)
        self._close()

    def _end_session(self) -> None:
        if self._checker is not None:
            self.release()
        self._checker = None
        self._released.clear()
        self.lost.clear()

    def _try(self) -> bool:
        try:
            if self._connection is None:
                self._connection = psycopg.connect(**self._connect)
            row = self._connection.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
        except psycopg.Error as error:
            logger.warning(
                "lease unavailable; trying again",
                extra={"fields": {"lease": self.name, "error_class": type(error).__name__}},
            )
            self._close()
            return False
        self._confirmed = self._clock()
        return bool(row and row[0])

    def _check(self) -> None:
        while not self._released.wait(self.check_seconds):
            try:
                assert self._connection is not None
                self._connection.execute("SELECT 1")
            except (psycopg.Error, AssertionError) as error:
                if not self._released.is_set():
                    self.lost.set()
                    logger.error(
                        "lease lost",
                        extra={"fields": {"lease": self.name, "error_class": type(error).__name__}},
                    )
                return
            self._confirmed = self._clock()

    def _pause(self, stopping: Callable[[], bool]) -> None:
        until = self._clock() + self.retry_seconds
        while not stopping() and self._clock() < until:
            time.sleep(_PAUSE_STEP)

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
