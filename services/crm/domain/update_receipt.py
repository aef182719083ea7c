"""UpdateReceipt: remembers a customer update's request_id, so a retry changes nothing."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics


@stable_topics("UpdateReceipt")
class UpdateReceipt(Aggregate):
    """Saved with the update it stands for, so both are stored or neither is."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"update/{idempotency_key}")

    class Issued(Aggregate.Created):
        idempotency_key: str
        customer_id: UUID
        fingerprint: str
        cause: Cause

    @event(Issued)
    def __init__(
        self, idempotency_key: str, customer_id: UUID, fingerprint: str, cause: Cause
    ) -> None:
        self.idempotency_key = idempotency_key
        self.customer_id = customer_id
        self.fingerprint = fingerprint
