"""The timeline projection: turns interaction events into timeline rows."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import JSONTranscoder, Tracking
from eventsourcing.projection import Projection

from services.crm.domain.interaction import Interaction, InteractionRecord
from services.crm.projections.timeline_store import TimelineRow, TimelineStore
from services.crm.transcoder import crm_transcoder


class TimelineProjection(Projection[TimelineStore]):
    name = "timeline"

    def __init__(self, view: TimelineStore) -> None:
        super().__init__(view)
        self.transcoder: JSONTranscoder = crm_transcoder()

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        # Events that put nothing on a timeline still advance its position.
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: Interaction.Recorded, tracking: Tracking) -> None:
        interaction = InteractionRecord(
            id=domain_event.originator_id,
            customer_id=domain_event.customer_id,
            content=domain_event.content,
            identity=domain_event.identity,
            recorded_by=domain_event.cause.actor,
            recorded_at=domain_event.timestamp,
        )
        self.view.add_entry(
            TimelineRow(
                entry_id=interaction.id,
                customer_id=interaction.customer_id,
                occurred_at=interaction.content.occurred_at,
                position=tracking.notification_id,
                channel=str(interaction.content.channel),
                direction=str(interaction.content.direction),
                payload=self.transcoder.encode(interaction),
            ),
            tracking,
        )
