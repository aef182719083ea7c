"""IdentityIndex: one aggregate per identity, so an identity has one holder at a time."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.identity import Identity
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics


@stable_topics("IdentityIndex")
class IdentityIndex(Aggregate):
    """Makes an identity unique: its id is derived from the identity, so two
    customers claiming one identity collide in the event store."""

    @staticmethod
    def create_id(identity: Identity) -> UUID:
        return uuid5(CRM_NAMESPACE, f"identity/{identity.key}")

    class Claimed(Aggregate.Created):
        identity: Identity
        customer_id: UUID
        cause: Cause

    class Released(Aggregate.Event):
        cause: Cause

    class Reclaimed(Aggregate.Event):
        customer_id: UUID
        cause: Cause

    @event(Claimed)
    def __init__(self, identity: Identity, customer_id: UUID, cause: Cause) -> None:
        self.identity = identity
        self.customer_id: UUID | None = customer_id

    @event(Released)
    def release(self, cause: Cause) -> None:
        """The identity is free again; its past interactions stay where they were."""
        self.customer_id = None

    @event(Reclaimed)
    def reclaim(self, customer_id: UUID, cause: Cause) -> None:
        self.customer_id = customer_id
