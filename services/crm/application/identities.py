"""Use cases that change who a customer is: identities and merges."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.crm.application.base import (
    CustomerHistoryBase,
    commit_position,
    write_attempts,
)
from services.crm.application.results import (
    ConcurrentUpdateError,
    CustomerResult,
    CustomerView,
)
from services.crm.domain.cause import Cause
from services.crm.domain.errors import (
    IdentityAlreadyLinkedError,
    IdentityNotFoundError,
    IdentityNotLinkedError,
    TargetMergedIntoSourceError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex, UnlinkKind


class IdentityUseCases(CustomerHistoryBase):
    def link_identity(self, customer_id: UUID, identity: Identity, cause: Cause) -> CustomerResult:
        """Link an identity to a customer; one held by another customer is refused,
        naming the holder, which is the cue to merge the two."""
        for _ in write_attempts():
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
                position = commit_position(self.save(root, claim))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(root.id), position)
        raise ConcurrentUpdateError

    def unlink_identity(
        self, customer_id: UUID, identity: Identity, kind: UnlinkKind, cause: Cause
    ) -> CustomerResult:
        """Free an identity. What came through it stays with the customer; after a
        correction it follows the identity to whoever is linked to it next, after a
        release it stays for good."""
        for _ in write_attempts():
            root = self._root(self.get_customer(customer_id))
            claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
            if claim is None or claim.customer_id is None:
                raise IdentityNotLinkedError
            holder = self.get_customer(claim.customer_id)
            if self._root(holder).id != root.id:
                raise IdentityNotLinkedError
            holder.unlink_identity(identity, kind, cause)
            claim.release(kind, cause)
            try:
                position = commit_position(self.save(holder, claim))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(root.id), position)
        raise ConcurrentUpdateError

    def merge_customers(
        self, source_id: UUID, target_id: UUID, evidence: str, cause: Cause
    ) -> CustomerResult:
        """Point source at target: the target then shows both histories. Nothing is
        copied, so unmerging restores both exactly."""
        for _ in write_attempts():
            source = self.get_customer(source_id)
            source.check_not_merged()
            target = self._root(self.get_customer(target_id))
            if target.id == source.id and target_id != source_id:
                raise TargetMergedIntoSourceError(str(target_id), str(source_id))
            source.merge_into(target.id, evidence, cause)
            target.absorb(source.id, evidence, cause)
            try:
                position = commit_position(self.save(source, target))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(target.id), position)
        raise ConcurrentUpdateError

    def unmerge_customer(self, source_id: UUID, cause: Cause) -> CustomerResult:
        for _ in write_attempts():
            source = self.get_customer(source_id)
            former = self.get_customer(source.unmerge(cause))
            if not former.absorbs(source.id):
                # Read across another unmerge of this pair: look again, to find it done.
                continue
            former.release(source.id, cause)
            try:
                position = commit_position(self.save(source, former))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(source.id), position)
        raise ConcurrentUpdateError

    def find_customer(self, identity: Identity) -> CustomerView:
        claim = self._find(IdentityIndex, IdentityIndex.create_id(identity))
        if claim is None or claim.customer_id is None:
            raise IdentityNotFoundError
        return self.view_customer(claim.customer_id)
