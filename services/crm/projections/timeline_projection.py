"""The timeline projection: turns events into timeline changes, one transaction each."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_OID, UUID, uuid5

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import JSONTranscoder, Tracking
from eventsourcing.projection import Projection

from services.crm.domain.customer import Customer
from services.crm.domain.customer_change import CustomerChange, CustomerChangeKind
from services.crm.domain.identity_index import IdentityIndex, UnlinkKind
from services.crm.domain.interaction import Interaction, InteractionRecord
from services.crm.domain.note import Note, NoteRecord
from services.crm.projections.timeline_store import (
    IdentityHolder,
    IdentityReleased,
    MergePointer,
    NewEntry,
    TimelineChange,
    TimelineStore,
)
from services.crm.transcoder import crm_transcoder
from services.crm.wire import TimelineItem, rendered_timeline_item


class TimelineProjection(Projection[TimelineStore]):
    name = "timeline"

    def __init__(self, view: TimelineStore) -> None:
        super().__init__(view)
        self.transcoder: JSONTranscoder = crm_transcoder()

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply([(self.changes(domain_event), tracking)])

    def wants(self, topic: str) -> bool:
        return True

    def changes(self, event: Any) -> list[TimelineChange]:
        """What the event changes on timelines; events that change nothing still
        advance the tracking position."""
        if isinstance(event, Interaction.Recorded):
            return [self._interaction(event)]
        if isinstance(event, Note.Added):
            return [self._note(event)]
        if isinstance(event, IdentityIndex.Claimed | IdentityIndex.Reclaimed):
            return [IdentityHolder(event.originator_id, event.customer_id)]
        if isinstance(event, IdentityIndex.Released):
            if event.kind == UnlinkKind.RELEASE:
                return [IdentityReleased(event.originator_id)]
            return [IdentityHolder(event.originator_id, None)]
        if isinstance(event, Customer.MergedInto):
            # No entry of its own: the source's entries now show on the target, which
            # gets a MERGED_FROM entry from the same merge.
            return [MergePointer(event.originator_id, event.target_id)]
        if isinstance(event, Customer.Unmerged):
            return [
                MergePointer(event.originator_id, None),
                self._change(event, CustomerChangeKind.UNMERGED_FROM, other=event.former_target_id),
            ]
        if isinstance(event, Customer.Absorbed):
            return [self._change(event, CustomerChangeKind.MERGED_FROM, other=event.source_id)]
        if isinstance(event, Customer.Released):
            return [self._change(event, CustomerChangeKind.SPLIT_OFF, other=event.source_id)]
        if isinstance(event, Customer.IdentityLinked):
            return [self._change(event, CustomerChangeKind.IDENTITY_LINKED)]
        if isinstance(event, Customer.IdentityUnlinked):
            unlinked = UnlinkKind(event.kind)
            return [self._change(event, CustomerChangeKind.IDENTITY_UNLINKED, unlinked=unlinked)]
        if isinstance(event, Customer.ProfileUpdated):
            return [self._change(event, CustomerChangeKind.PROFILE_UPDATED)]
        return []

    def _interaction(self, event: Interaction.Recorded) -> NewEntry:
        record = InteractionRecord(
            id=event.originator_id,
            customer_id=event.customer_id,
            content=event.content,
            identity=event.identity,
            recorded_by=event.cause.actor,
            recorded_at=event.timestamp,
        )
        via = None if event.identity is None else IdentityIndex.create_id(event.identity)
        return NewEntry(
            entry_id=record.id,
            origin_customer_id=event.customer_id,
            via_identity=via,
            occurred_at=record.content.occurred_at,
            channel=str(record.content.channel),
            direction=str(record.content.direction),
            payload=self.transcoder.encode(record),
            rendered=rendered_timeline_item(record, record.content.occurred_at),
        )

    def _note(self, event: Note.Added) -> NewEntry:
        note = NoteRecord(
            id=event.originator_id,
            customer_id=event.customer_id,
            text=event.text,
            author=event.cause.actor,
            created_at=event.timestamp,
        )
        return self._entry_without_channel(note.id, note.customer_id, note.created_at, note)

    def _change(
        self,
        event: Any,
        kind: CustomerChangeKind,
        other: UUID | None = None,
        unlinked: UnlinkKind | None = None,
    ) -> NewEntry:
        change = CustomerChange(
            kind=kind,
            customer_id=event.originator_id,
            occurred_at=event.timestamp,
            actor=event.cause.actor,
            reason=event.cause.reason,
            identity=getattr(event, "identity", None),
            other_customer_id=other,
            evidence=getattr(event, "evidence", ""),
            unlink_kind=unlinked,
            updated_fields=tuple(getattr(event, "updated_fields", ())),
            display_name=(
                event.profile.display_name if isinstance(event, Customer.ProfileUpdated) else ""
            ),
        )
        # One entry per event, so replaying the event can never add a second.
        entry_id = uuid5(NAMESPACE_OID, f"{event.originator_id}/{event.originator_version}")
        return self._entry_without_channel(entry_id, event.originator_id, event.timestamp, change)

    def _entry_without_channel(
        self, entry_id: UUID, customer_id: UUID, occurred_at: datetime, item: TimelineItem
    ) -> NewEntry:
        """Notes and customer changes: on the timeline, but on no channel."""
        return NewEntry(
            entry_id=entry_id,
            origin_customer_id=customer_id,
            via_identity=None,
            occurred_at=occurred_at,
            channel="",
            direction="",
            payload=self.transcoder.encode(item),
            rendered=rendered_timeline_item(item, occurred_at),
        )
