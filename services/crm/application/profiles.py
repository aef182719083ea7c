"""Use cases that change what agents know about a customer: their profile."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.crm.application.base import CustomerHistoryBase, commit_position, write_attempts
from services.crm.application.results import ConcurrentUpdateError, CustomerResult
from services.crm.domain.cause import Cause
from services.crm.domain.errors import RequestIdReusedError
from services.crm.domain.profile import CustomerProfile, EtagMismatchError
from services.crm.domain.update_receipt import UpdateReceipt
from services.crm.transcoder import fingerprint


class ProfileUseCases(CustomerHistoryBase):
    def update_customer(
        self,
        customer_id: UUID,
        given: CustomerProfile,
        fields: tuple[str, ...],
        etag: str,
        cause: Cause,
        request_id: str,
    ) -> CustomerResult:
        """Change the named profile fields, once per request_id; with an etag, only
        if the customer is still as the caller read it."""
        key = f"request:{cause.actor}:{request_id}"
        digest = fingerprint(customer_id, given, fields, etag, cause.reason)
        for _ in write_attempts():
            if request_id:
                earlier = self._find(UpdateReceipt, UpdateReceipt.create_id(key))
                if earlier is not None:
                    if earlier.fingerprint != digest:
                        raise RequestIdReusedError
                    return CustomerResult(self.view_customer(customer_id), self._log_end())
            customer = self._root(self.get_customer(customer_id))
            if etag and etag != customer.etag:
                raise EtagMismatchError(str(customer.id), customer.etag)
            customer.update_profile(given, fields, cause)
            changed: list[Aggregate] = [customer]
            if request_id:
                changed.append(UpdateReceipt(key, customer.id, digest, cause))
            try:
                recordings = self.save(*changed)
            except IntegrityError:
                continue  # Another change to the customer won the race; look again.
            position = commit_position(recordings) if recordings else self._log_end()
            return CustomerResult(self.view_customer(customer.id), position)
        raise ConcurrentUpdateError
