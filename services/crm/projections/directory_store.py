"""The customer directory read model: who exists, by name and identity, for search and
merge suggestions, without loading any aggregate."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from services.crm.projections.parked_events import ParkedEventStore


@dataclass(frozen=True)
class CustomerListed:
    customer_id: UUID
    display_name: str
    sort_name: str
    tokens: tuple[str, ...]
    # Identity keys the customer's attributes mention, e.g. a "phone" attribute.
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class IdentityHeld:
    """An identity and its holder; kind and value are None when only the holder changed."""

    identity_id: UUID
    customer_id: UUID | None
    key: str | None = None
    kind: str | None = None
    value: str | None = None
    mailbox: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class CustomerMerged:
    """customer_id now points at merged_into; None after an unmerge from split_from."""

    customer_id: UUID
    merged_into: UUID | None
    split_from: UUID | None = None


@dataclass(frozen=True)
class CustomerRenamed:
    """A listed customer's name or attributes changed: the listing replaces the old."""

    listing: CustomerListed


DirectoryChange = CustomerListed | IdentityHeld | CustomerMerged | CustomerRenamed


@dataclass(frozen=True)
class DirectoryEntry:
    """A surviving customer as search shows it, with merged customers' identities."""

    customer_id: UUID
    display_name: str
    sort_name: str
    identities: tuple[tuple[str, str], ...]
    merged_from: tuple[UUID, ...]


@dataclass(frozen=True)
class NameCursor:
    sort_name: str
    customer_id: UUID


@dataclass(frozen=True)
class Suggestion:
    """Two surviving customers that are likely one person, and why."""

    first: UUID
    second: UUID
    rule: str
    evidence: str


class DirectoryStore(TrackingRecorder, ParkedEventStore, ABC):
    @abstractmethod
    def apply(self, batch: Sequence[tuple[Sequence[DirectoryChange], Tracking]]) -> None:
        """Make each event's changes in log order and record the last tracking
        position, all in one transaction."""

    @abstractmethod
    def search_by_name(
        self, tokens: Sequence[str], limit: int, after: NameCursor | None
    ) -> list[DirectoryEntry]:
        """Surviving customers with a name word starting with each token, by name."""

    @abstractmethod
    def search_by_identity(self, identity_id: UUID) -> DirectoryEntry | None:
        """The surviving customer an identity resolves to."""

    @abstractmethod
    def suggestions(self, limit: int) -> list[Suggestion]:
        """Likely duplicates, by the documented rules."""

    @abstractmethod
    def explain_name_search(self, tokens: Sequence[str]) -> str:
        """The database's plan for a name search, to show it uses indexes."""

    @abstractmethod
    def refresh_statistics(self) -> None:
        """Let the query planner see the data as it is now, e.g. after a bulk load."""

    @abstractmethod
    def drop(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
