"""The timeline read model: its rows, the changes the projection makes, its interface.

Who an entry belongs to follows these rules, so merges and identity moves never copy
anything and can always be undone:
- an identity's holders come in generations: a correction changes the holder of
  the current one, a release closes it with its last holder and opens the next;
- an entry came through the generation its customer held (else the current one);
- its home is the holder of that generation, else the customer it was recorded for;
- its owner is the home after following merge pointers to the surviving customer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from services.crm.projections.parked_events import ParkedEventStore


@dataclass(frozen=True)
class TimelineRow:
    """One entry as stored: payload is the entry itself, in the transcoder's form;
    rendered is the same in the API's wire form (None in rows older than that column)."""

    entry_id: UUID
    customer_id: UUID
    occurred_at: datetime
    position: int
    channel: str
    direction: str
    payload: bytes
    rendered: bytes | None


@dataclass(frozen=True)
class NewEntry:
    entry_id: UUID
    origin_customer_id: UUID
    via_identity: UUID | None
    occurred_at: datetime
    channel: str
    direction: str
    payload: bytes
    rendered: bytes


@dataclass(frozen=True)
class IdentityHolder:
    """The identity's (by its index id) current generation is now held by
    customer_id, or by nobody."""

    identity_id: UUID
    customer_id: UUID | None


@dataclass(frozen=True)
class IdentityReleased:
    """The identity's current generation ends with its holder keeping what came
    through it; the next generation starts with nobody."""

    identity_id: UUID


@dataclass(frozen=True)
class MergePointer:
    """The source now points at target, or at nobody after an unmerge."""

    source_id: UUID
    target_id: UUID | None


TimelineChange = NewEntry | IdentityHolder | IdentityReleased | MergePointer


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


@dataclass(frozen=True)
class TimelineSlice:
    """Entries of the timeline a customer now shows on, and the log position the
    read model had reached when they were read."""

    rows: list[TimelineRow]
    position: int


class TimelineStore(TrackingRecorder, ParkedEventStore, ABC):
    """Timeline rows plus the tracking position they were built to, kept atomically."""

    @abstractmethod
    def apply(self, batch: Sequence[tuple[Sequence[TimelineChange], Tracking]]) -> None:
        """Make each event's changes in log order and record the last tracking
        position, all in one transaction."""

    @abstractmethod
    def select_entries(self, query: TimelineQuery, application_name: str) -> TimelineSlice:
        """Newest first by occurred time, ties broken by entry id, from the timeline the
        query's customer shows on now (itself, or where merge pointers lead)."""

    @abstractmethod
    def select_after_position(
        self, customer_id: UUID, position: int, limit: int
    ) -> list[TimelineRow]:
        """Entries put on the customer's timeline after a log position, in log order."""

    @abstractmethod
    def owner_of(self, customer_id: UUID) -> UUID:
        """The customer whose timeline shows this customer's entries now: itself, or
        the customer it was merged into."""

    @abstractmethod
    def drop(self) -> None:
        """Remove every row and the tracking position, for a rebuild from zero."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's database connections."""
