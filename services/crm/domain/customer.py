"""The Customer aggregate: a person, the identities that resolve to them, and merges."""

from __future__ import annotations

from hashlib import sha256
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.errors import (
    AlreadyMergedError,
    IdentityNotLinkedError,
    InvalidInputError,
    NotMergedError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import UnlinkKind
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.profile import CustomerProfile, with_values
from services.crm.domain.topics import stable_topics

MAX_IDENTITIES = 100


def customer_key(actor: str, request_id: str) -> str:
    """A retried CreateCustomer maps to the same customer id; others get a fresh one."""
    return f"request:{actor}:{request_id}" if request_id else f"random:{uuid4()}"


@stable_topics("Customer")
class Customer(Aggregate):
    """A customer. Interactions live in their own aggregates and point here."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"customer/{idempotency_key}")

    @classmethod
    def register(
        cls,
        idempotency_key: str,
        profile: CustomerProfile,
        identities: tuple[Identity, ...],
        fingerprint: str,
        cause: Cause,
    ) -> Customer:
        if len(identities) > MAX_IDENTITIES:
            raise InvalidInputError.single(
                "identities", "TOO_MANY_IDENTITIES", f"a customer holds at most {MAX_IDENTITIES}"
            )
        return cls(
            idempotency_key=idempotency_key,
            profile=profile,
            identities=identities,
            fingerprint=fingerprint,
            cause=cause,
        )

    class Registered(Aggregate.Created):
        idempotency_key: str
        profile: CustomerProfile
        identities: tuple[Identity, ...]
        fingerprint: str
        cause: Cause

    class IdentityLinked(Aggregate.Event):
        identity: Identity
        cause: Cause

    class IdentityUnlinked(Aggregate.Event):
        # Version 1 had no kind: every unlink then was what is now a correction.
        class_version = 2
        identity: Identity
        kind: UnlinkKind
        cause: Cause

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["kind"] = UnlinkKind.CORRECTION.value

    class MergedInto(Aggregate.Event):
        target_id: UUID
        evidence: str
        cause: Cause

    class Absorbed(Aggregate.Event):
        source_id: UUID
        evidence: str
        cause: Cause

    class Unmerged(Aggregate.Event):
        former_target_id: UUID
        cause: Cause

    class Released(Aggregate.Event):
        source_id: UUID
        cause: Cause

    @event(Registered)
    def __init__(
        self,
        idempotency_key: str,
        profile: CustomerProfile,
        identities: tuple[Identity, ...],
        fingerprint: str,
        cause: Cause,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.fingerprint = fingerprint
        self.profile = profile
        # Lists, not tuples: stored events and snapshots come back from JSON as lists.
        self.identity_list = list(identities)
        self.absorbed: list[UUID] = []
        self.merged_into: UUID | None = None

    def link_identity(self, identity: Identity, cause: Cause) -> None:
        """Link an identity; linking one the customer already holds changes nothing."""
        if self.holds(identity):
            return
        if len(self.identities) >= MAX_IDENTITIES:
            raise InvalidInputError.single(
                "identity", "TOO_MANY_IDENTITIES", f"a customer holds at most {MAX_IDENTITIES}"
            )
        self._identity_linked(identity, cause)

    @event(IdentityLinked)
    def _identity_linked(self, identity: Identity, cause: Cause) -> None:
        self.identity_list.append(identity)

    def unlink_identity(self, identity: Identity, kind: UnlinkKind, cause: Cause) -> None:
        if not self.holds(identity):
            raise IdentityNotLinkedError
        self._identity_unlinked(identity, kind, cause)

    @event(IdentityUnlinked)
    def _identity_unlinked(self, identity: Identity, kind: UnlinkKind, cause: Cause) -> None:
        self.identity_list.remove(identity)

    def merge_into(self, target_id: UUID, evidence: str, cause: Cause) -> None:
        """Become a tombstone pointing at target; everything here then shows there."""
        self.check_not_merged()
        if target_id == self.id:
            raise InvalidInputError.single(
                "target", "CANNOT_MERGE_INTO_ITSELF", "a customer cannot be merged into itself"
            )
        self._merged_into(target_id, evidence, cause)

    @event(MergedInto)
    def _merged_into(self, target_id: UUID, evidence: str, cause: Cause) -> None:
        self.merged_into = target_id

    def absorb(self, source_id: UUID, evidence: str, cause: Cause) -> None:
        self.check_not_merged()
        self._absorbed(source_id, evidence, cause)

    @event(Absorbed)
    def _absorbed(self, source_id: UUID, evidence: str, cause: Cause) -> None:
        self.absorbed.append(source_id)

    def unmerge(self, cause: Cause) -> UUID:
        """Stop pointing at the customer this one was merged into; returns that customer."""
        if self.merged_into is None:
            raise NotMergedError(str(self.id))
        former = self.merged_into
        self._unmerged(former, cause)
        return former

    @event(Unmerged)
    def _unmerged(self, former_target_id: UUID, cause: Cause) -> None:
        self.merged_into = None

    def release(self, source_id: UUID, cause: Cause) -> None:
        """Let go of a customer that was merged into this one."""
        if not self.absorbs(source_id):
            raise NotMergedError(str(source_id))
        self._released(source_id, cause)

    @event(Released)
    def _released(self, source_id: UUID, cause: Cause) -> None:
        self.absorbed.remove(source_id)

    def check_not_merged(self) -> None:
        if self.merged_into is not None:
            raise AlreadyMergedError(str(self.id), str(self.merged_into))

    @property
    def identities(self) -> tuple[Identity, ...]:
        return tuple(self.identity_list)

    def absorbs(self, source_id: UUID) -> bool:
        return source_id in self.absorbed

    def holds(self, identity: Identity) -> bool:
        return identity in self.identities

    class ProfileUpdated(Aggregate.Event):
        profile: CustomerProfile
        updated_fields: tuple[str, ...]
        cause: Cause

    def update_profile(self, given: CustomerProfile, fields: tuple[str, ...], cause: Cause) -> None:
        """Take the named fields from given; fields whose value is unchanged are left
        out, and an update that changes nothing records nothing."""
        self.check_not_merged()
        changed = tuple(
            name for name in fields if getattr(given, name) != getattr(self.profile, name)
        )
        if changed:
            values = {name: getattr(given, name) for name in changed}
            self._profile_updated(with_values(self.profile, values), changed, cause)

    @event(ProfileUpdated)
    def _profile_updated(
        self, profile: CustomerProfile, updated_fields: tuple[str, ...], cause: Cause
    ) -> None:
        self.profile = profile

    @property
    def etag(self) -> str:
        """Changes with every event of the customer (AIP-154); opaque to clients."""
        return sha256(f"{self.id}/{self.version}".encode()).hexdigest()[:16]
