"""Events a read model could not apply: what is recorded of them, and which errors
mean "try again" rather than "this event cannot be applied"."""

from __future__ import annotations

import sqlite3
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from eventsourcing.persistence import (
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
    Tracking,
)


class AppliedElsewhereError(Exception):
    """Another projector committed some of these positions first (one that had not yet
    seen it lost its lease): nothing of the batch was written, and starting again from
    the tracked position applies nothing twice."""


# Lost connections, timeouts, locks, serialization failures and deadlocks pass; so does
# a missing table or column, which would fail every event alike, not this one.
_TRANSIENT = (
    OperationalError,
    InterfaceError,
    InternalError,
    ProgrammingError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.InternalError,
    psycopg.ProgrammingError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    sqlite3.InternalError,
    sqlite3.ProgrammingError,
    OSError,
    AppliedElsewhereError,
)


@dataclass(frozen=True)
class ParkedEvent:
    """An event a read model moved past without applying it. No field holds personal
    data: the error's class is kept, never its message."""

    position: int
    topic: str
    originator_id: str
    error_class: str
    parked_at: datetime


class ParkedEventStore(ABC):
    """What every read model keeps of the events it moved past (sql_read_model)."""

    @abstractmethod
    def park(self, event: ParkedEvent, tracking: Tracking) -> None:
        """Record the event and move the tracking position past it, in one transaction."""

    @abstractmethod
    def parked_events(self, limit: int = 100) -> list[ParkedEvent]:
        """The first parked events, in log order."""

    @abstractmethod
    def parked_count(self) -> int:
        """How many events the read model moved past without applying them."""


def is_transient(error: BaseException) -> bool:
    """Whether the database, not the event, failed, so applying again may succeed."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, _TRANSIENT):
            return True
        seen = seen.__cause__
    return False


def error_class(error: BaseException) -> str:
    """The error's class and what caused it, e.g. "eventsourcing.persistence.DataError
    from psycopg.DataError"."""
    names: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(names) < 3:
        names.append(f"{type(seen).__module__}.{type(seen).__qualname__}")
        seen = seen.__cause__
    return " from ".join(names)


def error_frames(error: BaseException, limit: int = 6) -> list[str]:
    """Where the error was raised, innermost last, as "file.py:line in function": the
    place to look, without the message, which may quote personal data."""
    frames = traceback.extract_tb(error.__traceback__)[-limit:]
    return [f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}" for frame in frames]
