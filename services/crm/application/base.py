"""The application's wiring: event store, read models, shared lookups."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Notification,
    Recording,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.utils import EnvType

from services.crm.application.bounds import call_deadline, check_deadline
from services.crm.application.group_commit import CommitObserver, GroupCommit
from services.crm.application.progress import ReadModelProgress
from services.crm.application.results import (
    CustomerView,
    ProjectionLaggingError,
    TimelineEntry,
)
from services.crm.domain.cause import Cause
from services.crm.domain.customer import Customer
from services.crm.domain.errors import (
    CustomerNotFoundError,
    IdentityAlreadyLinkedError,
    InvalidInputError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.interaction import (
    Interaction,
    InteractionRecord,
)
from services.crm.projections.directory_store import (
    DirectoryStore,
)
from services.crm.projections.timeline_store import TimelineRow, TimelineStore
from services.crm.storage import ping, refresh_connections, snapshot_recorder
from services.crm.transcoder import crm_transcoder, register_crm_transcodings

A = TypeVar("A")

# Enough for a burst of first contacts from one new address to settle on one customer.
MAX_WRITE_ATTEMPTS = 10


class CustomerHistoryBase(Application[UUID]):
    """The application's wiring and the lookups every use case shares."""

    def __init__(
        self,
        env: EnvType | None = None,
        timeline: Callable[[], TimelineStore] | None = None,
        directory: Callable[[], DirectoryStore] | None = None,
        clock: Callable[[], datetime] | None = None,
        group_commit: bool = False,
        on_commit: CommitObserver | None = None,
    ) -> None:
        """timeline and directory open the read models the projections write; only
        readers need them. group_commit lets concurrent saves share a transaction;
        on_commit hears how many shared each."""
        super().__init__(env)
        self._group_commit = (
            GroupCommit(self.recorder.insert_events, on_commit=on_commit) if group_commit else None
        )
        self.clock = clock or (lambda: datetime.now(UTC))
        self._open_timeline = timeline
        self._open_directory = directory
        self._timeline: TimelineStore | None = None
        self._directory: DirectoryStore | None = None
        self._entry_transcoder = crm_transcoder()
        self._timeline_progress: ReadModelProgress | None = None
        self._progress_lock = threading.Lock()

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        if self._group_commit is None or kwargs:
            check_deadline()
            return super().save(*objs, deadline=call_deadline(), **kwargs)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            # The library's collect_events() checks runtime protocols, slow at bulk sizes.
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.collect_events(obj)
        stored = [self.mapper.to_stored_event(event) for event in processing.events]
        positions = self._group_commit.insert(stored, call_deadline())
        recordings = [
            Recording(event, _notification(record, position))
            for event, record, position in zip(processing.events, stored, positions, strict=True)
        ]
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def construct_snapshot_store(self) -> EventStore[UUID]:
        return self.factory.event_store(
            mapper=self.mapper, recorder=snapshot_recorder(self.factory)
        )

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
    def timeline_progress(self) -> ReadModelProgress:
        """The timeline's position, polled once for every watcher."""
        with self._progress_lock:
            if self._timeline_progress is None:
                timeline = self.timeline
                self._timeline_progress = ReadModelProgress(
                    lambda: timeline.max_tracking_id(self.name) or 0
                )
            return self._timeline_progress

    def timeline_entry(self, row: TimelineRow) -> TimelineEntry:
        return TimelineEntry(
            row.entry_id,
            row.position,
            row.occurred_at,
            row.rendered,
            row.payload,
            self._entry_transcoder.decode,
        )

    def check_database(self, timeout: float) -> None:
        """Raises what the database raises if it cannot answer a query within timeout."""
        ping(self.recorder, timeout)

    def refresh_connections(self) -> None:
        """Replaces the connections a database outage left broken in every pool."""
        for store in (self.recorder, self._timeline, self._directory):
            if store is not None:
                refresh_connections(store)

    def stop_watchers(self) -> None:
        """End every watch stream, so the service can stop without waiting for them."""
        if self._timeline_progress is not None:
            self._timeline_progress.stop()

    @property
    def directory(self) -> DirectoryStore:
        if self._directory is None:
            if self._open_directory is None:
                raise RuntimeError("this CustomerHistory was built without a directory")
            self._directory = self._open_directory()
        return self._directory

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
        self.stop_watchers()
        if self._group_commit is not None:
            self._group_commit.stop()
        for store in (self._timeline, self._directory):
            if store is not None:
                store.close()
        super().close()

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
        aggregate: object
        if kind in (self.snapshotting_intervals or {}):
            try:
                aggregate = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        else:
            # Never snapshotted: one query for its events, none for a snapshot.
            aggregate = project_aggregate(None, self.events.get(aggregate_id))
        return aggregate if isinstance(aggregate, kind) else None

    def _log_end(self) -> int:
        return self.recorder.max_notification_id() or 0


def write_attempts() -> Iterator[int]:
    """Retry slots with a short, jittered pause between them, so racing writers spread out."""
    for attempt in range(MAX_WRITE_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, 0.002 * 2**attempt))
        yield attempt


def interaction_record(interaction: Interaction) -> InteractionRecord:
    return InteractionRecord(
        id=interaction.id,
        customer_id=interaction.customer_id,
        content=interaction.content,
        identity=interaction.identity,
        recorded_by=interaction.recorded_by,
        recorded_at=interaction.created_on,
    )


def commit_position(recordings: list[Recording[UUID]]) -> int:
    return max(recording.notification.id for recording in recordings)


def _notification(stored: StoredEvent, position: int) -> Notification:
    return Notification(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
        id=position,
    )
