"""The Customer aggregate: a person's profile and the identities that resolve to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.channels import Channel
from services.crm.domain.errors import InvalidInputError, Violations
from services.crm.domain.identity import Identity
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.tags import check_tags
from services.crm.domain.topics import stable_topics

MAX_DISPLAY_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 1_000
MAX_IDENTITIES = 100
_LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class CustomerProfile:
    """What agents know about a customer besides their identities."""

    display_name: str = ""
    language_code: str = ""
    preferred_channel: Channel | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = Violations()
        problems.check(
            len(self.display_name) <= MAX_DISPLAY_NAME_CHARS,
            "display_name",
            "DISPLAY_NAME_TOO_LONG",
            f"at most {MAX_DISPLAY_NAME_CHARS} characters",
        )
        problems.check(
            not self.language_code or bool(_LANGUAGE_PATTERN.match(self.language_code)),
            "language_code",
            "INVALID_LANGUAGE_CODE",
            "must be a BCP-47 tag such as 'en-GB'",
        )
        problems.check(
            len(self.attributes) <= MAX_ATTRIBUTES,
            "attributes",
            "TOO_MANY_ATTRIBUTES",
            f"at most {MAX_ATTRIBUTES}",
        )
        for key, value in self.attributes.items():
            problems.check(
                0 < len(key) <= MAX_ATTRIBUTE_KEY_CHARS and len(value) <= MAX_ATTRIBUTE_VALUE_CHARS,
                f"attributes[{key[:MAX_ATTRIBUTE_KEY_CHARS]}]",
                "INVALID_ATTRIBUTE",
                f"keys 1-{MAX_ATTRIBUTE_KEY_CHARS} and values up to "
                f"{MAX_ATTRIBUTE_VALUE_CHARS} characters",
            )
        check_tags(problems, self.tags)
        problems.raise_if_any()


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
        # A list, not a tuple: stored events and snapshots come back from JSON as lists.
        self.identity_list = list(identities)

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

    @property
    def identities(self) -> tuple[Identity, ...]:
        return tuple(self.identity_list)

    def holds(self, identity: Identity) -> bool:
        return identity in self.identities


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

    @event(Claimed)
    def __init__(self, identity: Identity, customer_id: UUID, cause: Cause) -> None:
        self.identity = identity
        self.customer_id = customer_id
