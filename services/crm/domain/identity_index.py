"""IdentityIndex: one aggregate per identity, so an identity has one holder at a time."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.identity import Identity
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics


class UnlinkKind(StrEnum):
    """Why an identity leaves a customer, which decides where its history goes."""

    # It was never theirs: what came through it moves with it to its next holder.
    CORRECTION = "correction"
    # It was theirs and no longer is (a number given back to the carrier): what came
    # through it stays with them, and the next holder starts a generation of its own.
    RELEASE = "release"


@stable_topics("IdentityIndex")
class IdentityIndex(Aggregate):
    """Makes an identity unique: its id is derived from the identity, so two
    customers claiming one identity collide in the event store.

    Its generation counts releases: an interaction belongs to the holder of the
    generation it came through, so a recycled phone number's next holder never sees
    what the previous one said."""

    @staticmethod
    def create_id(identity: Identity) -> UUID:
        return uuid5(CRM_NAMESPACE, f"identity/{identity.key}")

    class Claimed(Aggregate.Created):
        identity: Identity
        customer_id: UUID
        cause: Cause

    class Released(Aggregate.Event):
        # Version 1 had no kind: every unlink then was what is now a correction.
        class_version = 2
        kind: UnlinkKind
        cause: Cause

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = UnlinkKind.CORRECTION.value

    class Reclaimed(Aggregate.Event):
        customer_id: UUID
        cause: Cause

    @event(Claimed)
    def __init__(self, identity: Identity, customer_id: UUID, cause: Cause) -> None:
        self.identity = identity
        self.customer_id: UUID | None = customer_id
        self.generation = 0

    @event(Released)
    def release(self, kind: UnlinkKind, cause: Cause) -> None:
        """The identity is free again; after a release, under a new generation."""
        self.customer_id = None
        if kind == UnlinkKind.RELEASE:
            self.generation += 1

    @event(Reclaimed)
    def reclaim(self, customer_id: UUID, cause: Cause) -> None:
        self.customer_id = customer_id
