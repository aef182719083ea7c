"""What the use cases return, and the errors only they raise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from services.crm.domain.customer import Customer
from services.crm.domain.customer_change import CustomerChange
from services.crm.domain.errors import (
    CrmError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.interaction import (
    InteractionRecord,
)
from services.crm.domain.note import NoteRecord


class ProjectionLaggingError(CrmError):
    """The timeline has not caught up with the requested position in time."""

    reason = "PROJECTION_LAGGING"

    def __init__(self, wanted: int, reached: int) -> None:
        super().__init__(
            f"read model is at position {reached}, not yet at {wanted}; retry shortly",
            {"wanted_position": str(wanted), "reached_position": str(reached)},
        )


class ConcurrentUpdateError(CrmError):
    """Other writers kept winning the race; the caller may retry."""

    reason = "CONCURRENT_UPDATE"

    def __init__(self) -> None:
        super().__init__("too many concurrent writers; retry the request")


class ServiceStoppingError(CrmError):
    """The service is shutting down; nothing was written, so the caller may retry."""

    reason = "SERVICE_STOPPING"

    def __init__(self) -> None:
        super().__init__("the service is stopping; nothing was written, retry the request")


class DatabaseUnavailableError(CrmError):
    """The database did not answer in time; the caller may retry."""

    reason = "DATABASE_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("the database is unavailable; retry the request shortly")


class DeadlinePassedError(CrmError):
    """The caller's deadline passed before its write was committed, so it never will be."""

    reason = "DEADLINE_EXCEEDED"

    def __init__(self) -> None:
        super().__init__(
            "the call's deadline passed before its write was committed; nothing was written"
        )


@dataclass(frozen=True)
class RecordedResult:
    interaction: InteractionRecord
    position: int
    customer_created: bool
    already_recorded: bool = False


@dataclass(frozen=True)
class CustomerView:
    """A customer as agents see it: merged customers' identities included, and which
    customer a request named if it was redirected here from a merged one."""

    customer: Customer
    identities: tuple[Identity, ...]
    merged_from: tuple[UUID, ...]
    redirected_from: UUID | None = None

    @property
    def id(self) -> UUID:
        return self.customer.id


@dataclass(frozen=True)
class CustomerResult:
    customer: CustomerView
    position: int


@dataclass(frozen=True)
class TimelineEntry:
    """An entry as the timeline stores it; item is decoded only when asked for, since
    the API serves the rendered form (None for rows stored before it existed)."""

    entry_id: UUID
    position: int
    occurred_at: datetime
    rendered: bytes | None
    payload: bytes = field(repr=False)
    decode: Callable[[bytes], Any] = field(repr=False, compare=False)

    @cached_property
    def item(self) -> InteractionRecord | CustomerChange | NoteRecord:
        decoded: InteractionRecord | CustomerChange | NoteRecord = self.decode(self.payload)
        return decoded


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    has_more: bool
    position: int


@dataclass(frozen=True)
class NoteResult:
    note: NoteRecord
    position: int
