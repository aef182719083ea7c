"""Use cases of the customer history, over the event store and the timeline read model."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording, TrackingRecorder
from eventsourcing.utils import EnvType

from services.crm.domain.cause import Cause
from services.crm.domain.customer import Customer, customer_key
from services.crm.domain.customer_change import CustomerChange
from services.crm.domain.errors import (
    CrmError,
    CustomerNotFoundError,
    IdentityAlreadyLinkedError,
    IdentityNotFoundError,
    IdentityNotLinkedError,
    InteractionAlreadyRecordedError,
    InvalidInputError,
    RequestIdReusedError,
    TargetMergedIntoSourceError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.interaction import (
    Interaction,
    InteractionContent,
    InteractionRecord,
    interaction_key,
)
from services.crm.domain.names import name_tokens
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.directory_store import (
    DirectoryEntry,
    DirectoryStore,
    NameCursor,
    Suggestion,
)
from services.crm.projections.timeline_store import TimelineQuery, TimelineStore
from services.crm.transcoder import crm_transcoder, fingerprint, register_crm_transcodings

A = TypeVar("A")

MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8

# Enough for a burst of first contacts from one new address to settle on one customer.
MAX_WRITE_ATTEMPTS = 10


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


@dataclass(frozen=True)
class RecordedResult:
    interaction: InteractionRecord
    position: int
    customer_created: bool


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
    entry_id: UUID
    item: InteractionRecord | CustomerChange
    position: int
    occurred_at: datetime


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    has_more: bool
    position: int


class CustomerHistory(Application[UUID]):
    """The service layer: every write is one atomic save of new events."""

    name = "CustomerHistory"
    # Customers change rarely; interactions are separate aggregates that never grow.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Customer: 50
    }

    def __init__(
        self,
        env: EnvType | None = None,
        timeline: Callable[[], TimelineStore] | None = None,
        directory: Callable[[], DirectoryStore] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """timeline and directory open the read models the projections write; only
        readers need them."""
        super().__init__(env)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._open_timeline = timeline
        self._open_directory = directory
        self._timeline: TimelineStore | None = None
        self._directory: DirectoryStore | None = None
        self._entry_transcoder = crm_transcoder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_crm_transcodings(transcoder)

    @property
    def timeline(self) -> TimelineStore:
        if self._timeline is None:
            if self._open_timeline is None:
                raise RuntimeError("this CustomerHistory was built without a timeline")
            self._timeline = self._open_timeline()
        return self._timeline

    @property
    def directory(self) -> DirectoryStore:
        if self._directory is None:
            if self._open_directory is None:
                raise RuntimeError("this CustomerHistory was built without a directory")
            self._directory = self._open_directory()
        return self._directory

    def search_by_name(
        self, name: str, limit: int, after: NameCursor | None, min_position: int, wait: float
    ) -> list[DirectoryEntry]:
        tokens = name_tokens(name)
        if not tokens:
            raise InvalidInputError.single(
                "name", "EMPTY_SEARCH", "give at least one letter or digit to search for"
            )
        if len(name) > MAX_SEARCH_CHARS or len(tokens) > MAX_SEARCH_WORDS:
            raise InvalidInputError.single(
                "name",
                "SEARCH_TOO_LONG",
                f"at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_CHARS} characters",
            )
        self.wait_for_position(min_position, wait, self.directory)
        return self.directory.search_by_name(tokens, limit, after)

    def search_by_identity(
        self, identity: Identity, min_position: int, wait: float
    ) -> DirectoryEntry | None:
        self.wait_for_position(min_position, wait, self.directory)
        return self.directory.search_by_identity(IdentityIndex.create_id(identity))

    def merge_suggestions(self, limit: int) -> list[Suggestion]:
        return self.directory.suggestions(limit)

    def record_interaction(
        self,
        target: UUID | Identity,
        content: InteractionContent,
        cause: Cause,
        request_id: str,
        *,
        time_given: bool = True,
    ) -> RecordedResult:
        """Record an interaction once. time_given=False says occurred_at is the default
        "now", which a retry of the same request will not repeat exactly."""
        content.check_not_in_future(self.clock())
        key = interaction_key(
            content.channel, content.idempotency_external_id, cause.actor, request_id
        )
        sent = dataclasses.asdict(content)
        if not time_given:
            del sent["occurred_at"]
        digest = fingerprint(target, sent)
        for _ in _attempts():
            earlier = self._earlier_recording(key, digest)
            if earlier is not None:
                return RecordedResult(_record(earlier), self._log_end(), earlier.customer_created)
            customer_id, created = self._resolve_customer(target, cause)
            interaction = Interaction(
                idempotency_key=key,
                customer_id=customer_id,
                content=content,
                identity=target if isinstance(target, Identity) else None,
                fingerprint=digest,
                customer_created=bool(created),
                cause=cause,
            )
            try:
                recordings = self.save(*created, interaction)
            except IntegrityError:
                continue  # Lost a race for the identity or the idempotency key; look again.
            return RecordedResult(_record(interaction), _position(recordings), bool(created))
        raise ConcurrentUpdateError

    def create_customer(
        self,
        profile: CustomerProfile,
        identities: Sequence[Identity],
        cause: Cause,
        request_id: str,
    ) -> CustomerResult:
        unique = tuple(dict.fromkeys(identities))
        key = customer_key(cause.actor, request_id)
        digest = fingerprint(profile, unique)
        for _ in _attempts():
            existing = self._find(Customer, Customer.create_id(key))
            if existing is not None:
                if existing.fingerprint != digest:
                    raise RequestIdReusedError
                return CustomerResult(self.view_customer(existing.id), self._log_end())
            for identity in unique:
                self._check_unclaimed(identity, Customer.create_id(key))
            customer = Customer.register(key, profile, unique, digest, cause)
            claims = [self._claim(identity, customer.id, cause) for identity in unique]
            try:
                position = _position(self.save(customer, *claims))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(customer.id), position)
        raise ConcurrentUpdateError

    def link_identity(self, customer_id: UUID, identity: Identity, cause: Cause) -> CustomerResult:
        """Link an identity to a customer; one held by another customer is refused,
        naming the holder, which is the cue to merge the two."""
        for _ in _attempts():
            root = self._root(self.get_customer(customer_id))
            claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
            if claim is not None and claim.customer_id is not None:
                holder = self._root(self.get_customer(claim.customer_id))
                if holder.id != root.id:
                    raise IdentityAlreadyLinkedError(str(identity.kind), str(holder.id))
                return CustomerResult(self.view_customer(root.id), self._log_end())
            root.link_identity(identity, cause)
            if claim is None:
                claim = IdentityIndex(identity=identity, customer_id=root.id, cause=cause)
            else:
                claim.reclaim(root.id, cause)
            try:
                position = _position(self.save(root, claim))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(root.id), position)
        raise ConcurrentUpdateError

    def unlink_identity(
        self, customer_id: UUID, identity: Identity, cause: Cause
    ) -> CustomerResult:
        """Free an identity. Interactions that came through it stay with the customer
        until the identity is linked to someone else; then they follow it."""
        for _ in _attempts():
            root = self._root(self.get_customer(customer_id))
            claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
            if claim is None or claim.customer_id is None:
                raise IdentityNotLinkedError
            holder = self.get_customer(claim.customer_id)
            if self._root(holder).id != root.id:
                raise IdentityNotLinkedError
            holder.unlink_identity(identity, cause)
            claim.release(cause)
            try:
                position = _position(self.save(holder, claim))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(root.id), position)
        raise ConcurrentUpdateError

    def merge_customers(
        self, source_id: UUID, target_id: UUID, evidence: str, cause: Cause
    ) -> CustomerResult:
        """Point source at target: the target then shows both histories. Nothing is
        copied, so unmerging restores both exactly."""
        for _ in _attempts():
            source = self.get_customer(source_id)
            source.check_not_merged()
            target = self._root(self.get_customer(target_id))
            if target.id == source.id and target_id != source_id:
                raise TargetMergedIntoSourceError(str(target_id), str(source_id))
            source.merge_into(target.id, evidence, cause)
            target.absorb(source.id, evidence, cause)
            try:
                position = _position(self.save(source, target))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(target.id), position)
        raise ConcurrentUpdateError

    def unmerge_customer(self, source_id: UUID, cause: Cause) -> CustomerResult:
        for _ in _attempts():
            source = self.get_customer(source_id)
            former = self.get_customer(source.unmerge(cause))
            former.release(source.id, cause)
            try:
                position = _position(self.save(source, former))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(source.id), position)
        raise ConcurrentUpdateError

    def get_customer(self, customer_id: UUID) -> Customer:
        """The customer aggregate itself, which may be a merged tombstone."""
        customer = self._find(Customer, customer_id)
        if customer is None:
            raise CustomerNotFoundError(str(customer_id))
        return customer

    def view_customer(self, customer_id: UUID) -> CustomerView:
        """The customer a name stands for now, following merges."""
        named = self.get_customer(customer_id)
        root = self._root(named)
        identities = list(root.identities)
        merged_from: list[UUID] = []
        pending = list(root.absorbed)
        while pending:
            absorbed = self.get_customer(pending.pop(0))
            merged_from.append(absorbed.id)
            identities.extend(absorbed.identities)
            pending.extend(absorbed.absorbed)
        redirected = named.id if named.id != root.id else None
        return CustomerView(root, tuple(identities), tuple(merged_from), redirected)

    def find_customer(self, identity: Identity) -> CustomerView:
        claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
        if claim is None or claim.customer_id is None:
            raise IdentityNotFoundError
        return self.view_customer(claim.customer_id)

    def timeline_page(
        self, query: TimelineQuery, min_position: int, wait_seconds: float
    ) -> TimelinePage:
        root = self._root(self.get_customer(query.customer_id))
        query = dataclasses.replace(query, customer_id=root.id)
        position = self.wait_for_position(min_position, wait_seconds)
        rows = self.timeline.select_entries(dataclasses.replace(query, limit=query.limit + 1))
        entries = [
            TimelineEntry(
                row.entry_id,
                self._entry_transcoder.decode(row.payload),
                row.position,
                row.occurred_at,
            )
            for row in rows[: query.limit]
        ]
        return TimelinePage(entries, len(rows) > query.limit, position)

    def wait_for_position(
        self, position: int, timeout: float, read_model: TrackingRecorder | None = None
    ) -> int:
        """Block until a read model (the timeline unless named) includes the log up to
        position; return where it is."""
        store = read_model or self.timeline
        reached = store.max_tracking_id(self.name) or 0
        if position <= reached:
            return reached
        if position > self._log_end():
            raise InvalidInputError.single(
                "min_position",
                "POSITION_BEYOND_LOG",
                "no write has been committed at this position",
            )
        deadline = time.monotonic() + timeout
        pause = 0.001
        while reached < position:
            if time.monotonic() >= deadline:
                raise ProjectionLaggingError(position, reached)
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
            reached = store.max_tracking_id(self.name) or 0
        return reached

    def close(self) -> None:
        for store in (self._timeline, self._directory):
            if store is not None:
                store.close()
        super().close()

    def _earlier_recording(self, key: str, digest: str) -> Interaction | None:
        if key.startswith("random:"):
            return None
        earlier = self._find(Interaction, Interaction.create_id(key))
        if earlier is None:
            return None
        if earlier.fingerprint != digest:
            if key.startswith("request:"):
                raise RequestIdReusedError
            raise InteractionAlreadyRecordedError(str(earlier.id))
        return earlier

    def _resolve_customer(
        self, target: UUID | Identity, cause: Cause
    ) -> tuple[UUID, list[Customer | IdentityIndex]]:
        if isinstance(target, UUID):
            return self._root(self.get_customer(target)).id, []
        claim = self._find(IdentityIndex, IdentityIndex.create_id(target))
        if claim is not None and claim.customer_id is not None:
            # The holder itself, merged or not: the interaction belongs with its identity.
            return claim.customer_id, []
        customer = Customer.register(
            f"random:{uuid4()}", CustomerProfile(), (target,), fingerprint(), cause
        )
        if claim is None:
            claim = IdentityIndex(identity=target, customer_id=customer.id, cause=cause)
        else:
            claim.reclaim(customer.id, cause)
        return customer.id, [customer, claim]

    def _check_unclaimed(self, identity: Identity, allowed_holder: UUID | None) -> None:
        claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
        if claim is not None and claim.customer_id not in (None, allowed_holder):
            holder = self._root(self.get_customer(claim.customer_id))
            raise IdentityAlreadyLinkedError(str(identity.kind), str(holder.id))

    def _claim(self, identity: Identity, customer_id: UUID, cause: Cause) -> IdentityIndex:
        """A new claim on the identity, or its released claim taken up again."""
        claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
        if claim is None:
            return IdentityIndex(identity=identity, customer_id=customer_id, cause=cause)
        claim.reclaim(customer_id, cause)
        return claim

    def _root(self, customer: Customer) -> Customer:
        """Follow merge pointers to the customer that is not merged into another."""
        while customer.merged_into is not None:
            customer = self.get_customer(customer.merged_into)
        return customer

    def _find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _log_end(self) -> int:
        return self.recorder.max_notification_id() or 0


def _attempts() -> Iterator[int]:
    """Retry slots with a short, jittered pause between them, so racing writers spread out."""
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, 0.002 * 2**attempt))
        yield attempt


def _record(interaction: Interaction) -> InteractionRecord:
    return InteractionRecord(
        id=interaction.id,
        customer_id=interaction.customer_id,
        content=interaction.content,
        identity=interaction.identity,
        recorded_by=interaction.recorded_by,
        recorded_at=interaction.created_on,
    )


def _position(recordings: list[Recording[UUID]]) -> int:
    return max(recording.notification.id for recording in recordings)
