"""The timeline read model's rows, queries and storage interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder


@dataclass(frozen=True)
class TimelineRow:
    """One entry of one customer's timeline; payload is the stored entry itself."""

    entry_id: UUID
    customer_id: UUID
    occurred_at: datetime
    position: int
    channel: str
    direction: str
    payload: bytes


@dataclass(frozen=True)
class TimelineCursor:
    """Where a page ended: entries strictly older than this come next."""

    occurred_at: datetime
    entry_id: UUID


@dataclass(frozen=True)
class TimelineQuery:
    customer_id: UUID
    limit: int
    channels: frozenset[str] = frozenset()
    direction: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    after: TimelineCursor | None = None


class TimelineStore(TrackingRecorder, ABC):
    """Timeline rows plus the tracking position they were built to, kept atomically."""

    @abstractmethod
    def add_entry(self, row: TimelineRow, tracking: Tracking) -> None:
        """Store the row and the tracking record in one transaction."""

    @abstractmethod
    def select_entries(self, query: TimelineQuery) -> list[TimelineRow]:
        """Newest first by occurred time, ties broken by entry id."""

    @abstractmethod
    def drop(self) -> None:
        """Remove every row and the tracking position, for a rebuild from zero."""

    @abstractmethod
    def close(self) -> None:
        """Release the view's database connections."""
