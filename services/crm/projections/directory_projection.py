"""The directory projection: keeps the customer directory in step with the log."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from services.crm.domain.customer import Customer
from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity, IdentityKind
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.names import FREE_MAIL_DOMAINS, mailbox, name_tokens, sort_name
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.directory_store import (
    CustomerListed,
    CustomerMerged,
    CustomerRenamed,
    DirectoryChange,
    DirectoryStore,
    IdentityHeld,
)


class DirectoryProjection(Projection[DirectoryStore]):
    name = "directory"

    def wants(self, topic: str) -> bool:
        # Interactions and notes, most of the log, say nothing about who customers are.
        return topic.startswith(("crm.Customer.", "crm.IdentityIndex."))

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.apply([(self.changes(domain_event), tracking)])

    def changes(self, event: Any) -> list[DirectoryChange]:
        if isinstance(event, Customer.Registered):
            return [_listing(event.originator_id, event.profile)]
        if isinstance(event, Customer.ProfileUpdated):
            if {"display_name", "attributes"}.isdisjoint(event.updated_fields):
                return []
            return [CustomerRenamed(_listing(event.originator_id, event.profile))]
        if isinstance(event, IdentityIndex.Claimed):
            return [_held(event.originator_id, event.identity, event.customer_id)]
        if isinstance(event, IdentityIndex.Reclaimed):
            return [IdentityHeld(event.originator_id, event.customer_id)]
        if isinstance(event, IdentityIndex.Released):
            return [IdentityHeld(event.originator_id, None)]
        if isinstance(event, Customer.MergedInto):
            return [CustomerMerged(event.originator_id, event.target_id)]
        if isinstance(event, Customer.Unmerged):
            return [CustomerMerged(event.originator_id, None, event.former_target_id)]
        return []


def _listing(customer_id: Any, profile: CustomerProfile) -> CustomerListed:
    return CustomerListed(
        customer_id=customer_id,
        display_name=profile.display_name,
        sort_name=sort_name(profile.display_name),
        tokens=tuple(name_tokens(profile.display_name)),
        mentions=tuple(_mentions(profile)),
    )


def _held(identity_id: Any, identity: Identity, customer_id: Any) -> IdentityHeld:
    box = domain = None
    if identity.kind is IdentityKind.EMAIL:
        box = mailbox(identity.value)
        address_domain = identity.value.rpartition("@")[2]
        domain = None if address_domain in FREE_MAIL_DOMAINS else address_domain
    return IdentityHeld(
        identity_id, customer_id, identity.key, str(identity.kind), identity.value, box, domain
    )


def _mentions(profile: CustomerProfile) -> list[str]:
    """Identities that a customer's attributes name, e.g. {"phone": "020 7946 0958"} or
    {"billing_id": "C-1001"}, as "attribute=identity key"."""
    found = []
    for attribute, value in profile.attributes.items():
        name = attribute.lower()
        try:
            if name in ("phone", "mobile"):
                identity = Identity.phone(value)
            elif name == "email":
                identity = Identity.email(value)
            elif name.endswith("_id"):
                identity = Identity.external(name.removesuffix("_id"), value)
            else:
                continue
        except InvalidInputError:
            continue
        found.append(f"{attribute}={identity.key}")
    return found
