"""Use cases that record: interactions, and customers created for them."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from services.crm.application.base import (
    CustomerHistoryBase,
    commit_position,
    interaction_record,
    write_attempts,
)
from services.crm.application.results import (
    ConcurrentUpdateError,
    CustomerResult,
    RecordedResult,
)
from services.crm.domain.cause import Cause
from services.crm.domain.customer import Customer, customer_key
from services.crm.domain.errors import (
    InteractionAlreadyRecordedError,
    RequestIdReusedError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.interaction import (
    Interaction,
    InteractionContent,
    interaction_key,
)
from services.crm.domain.profile import CustomerProfile, first_seen_profile
from services.crm.transcoder import fingerprint, plain


class RecordingUseCases(CustomerHistoryBase):
    def record_interaction(
        self,
        target: UUID | Identity,
        content: InteractionContent,
        cause: Cause,
        request_id: str,
        *,
        time_given: bool = True,
        display_name: str = "",
    ) -> RecordedResult:
        """Record an interaction once. time_given=False says occurred_at is the default
        "now", which a retry of the same request will not repeat exactly; display_name
        names a customer this creates."""
        content.check_not_in_future(self.clock())
        key = interaction_key(
            content.channel, content.idempotency_external_id, cause.actor, request_id
        )
        sent = plain(content)
        if not time_given:
            del sent["occurred_at"]
        digest = fingerprint(target, sent)
        for _ in write_attempts():
            earlier = self._earlier_recording(key, digest)
            if earlier is not None:
                return RecordedResult(
                    interaction_record(earlier),
                    self._log_end(),
                    earlier.customer_created,
                    already_recorded=True,
                )
            customer_id, created = self._resolve_customer(target, cause, display_name)
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
            return RecordedResult(
                interaction_record(interaction), commit_position(recordings), bool(created)
            )
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
        for _ in write_attempts():
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
                position = commit_position(self.save(customer, *claims))
            except IntegrityError:
                continue
            return CustomerResult(self.view_customer(customer.id), position)
        raise ConcurrentUpdateError

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
        self, target: UUID | Identity, cause: Cause, display_name: str = ""
    ) -> tuple[UUID, list[Customer | IdentityIndex]]:
        if isinstance(target, UUID):
            return self._root(self.get_customer(target)).id, []
        claim = self._find(IdentityIndex, IdentityIndex.create_id(target))
        if claim is not None and claim.customer_id is not None:
            # The holder itself, merged or not: the interaction belongs with its identity.
            return claim.customer_id, []
        customer = Customer.register(
            f"random:{uuid4()}", first_seen_profile(display_name), (target,), fingerprint(), cause
        )
        if claim is None:
            claim = IdentityIndex(identity=target, customer_id=customer.id, cause=cause)
        else:
            claim.reclaim(customer.id, cause)
        return customer.id, [customer, claim]
