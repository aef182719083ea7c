"""Errors the domain and application raise; the API edge maps each to a gRPC status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FieldViolation:
    """One reason why one field of a request is unacceptable."""

    field: str
    reason: str
    description: str


class CrmError(Exception):
    """Base of every error a caller can act on."""

    reason = "CRM_ERROR"

    def __init__(self, message: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = metadata or {}


class InvalidInputError(CrmError):
    """The request is malformed; nothing was stored."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations
        self.reason = violations[0].reason if violations else "INVALID_ARGUMENT"

    @classmethod
    def single(cls, field: str, reason: str, description: str) -> InvalidInputError:
        return cls([FieldViolation(field, reason, description)])


@contextmanager
def field_prefix(prefix: str) -> Iterator[None]:
    """Report violations of a nested value under the request field that holds it."""
    try:
        yield
    except InvalidInputError as error:
        raise InvalidInputError(_prefixed(error.violations, prefix)) from None


def _prefixed(violations: list[FieldViolation], prefix: str) -> list[FieldViolation]:
    if not prefix:
        return violations
    return [replace(v, field=f"{prefix}.{v.field}" if v.field else prefix) for v in violations]


class Violations:
    """Collects every violation of a request, so the caller learns them all at once."""

    def __init__(self) -> None:
        self._found: list[FieldViolation] = []

    def add(self, field: str, reason: str, description: str) -> None:
        self._found.append(FieldViolation(field, reason, description))

    def check(self, ok: bool, field: str, reason: str, description: str) -> None:
        if not ok:
            self.add(field, reason, description)

    @contextmanager
    def collect(self, prefix: str = "") -> Iterator[None]:
        try:
            yield
        except InvalidInputError as error:
            self._found.extend(_prefixed(error.violations, prefix))

    @property
    def found(self) -> bool:
        return bool(self._found)

    def raise_if_any(self) -> None:
        if self._found:
            raise InvalidInputError(self._found)


class CustomerNotFoundError(CrmError):
    reason = "CUSTOMER_NOT_FOUND"

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id} does not exist", {"customer": customer_id})


class IdentityNotFoundError(CrmError):
    reason = "IDENTITY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("no customer has this identity")


class IdentityAlreadyLinkedError(CrmError):
    """The identity belongs to another customer: the cue to merge the two."""

    reason = "IDENTITY_ALREADY_LINKED"

    def __init__(self, identity_kind: str, holder_id: str) -> None:
        super().__init__(
            f"this {identity_kind} identity already belongs to customer {holder_id}",
            {"holder": f"customers/{holder_id}", "identity_kind": identity_kind},
        )


class RequestIdReusedError(CrmError):
    """A request_id came back with a different request than the first time."""

    reason = "REQUEST_ID_REUSED"

    def __init__(self) -> None:
        super().__init__("request_id was already used for a different request")


class InteractionAlreadyRecordedError(CrmError):
    """The (channel, external id) pair names an interaction with other content."""

    reason = "INTERACTION_ALREADY_RECORDED"

    def __init__(self, interaction_id: str) -> None:
        super().__init__(
            "an interaction with this channel and external_id was already recorded "
            "with different content",
            {"interaction": f"interactions/{interaction_id}"},
        )


class IdentityNotLinkedError(CrmError):
    reason = "IDENTITY_NOT_LINKED"

    def __init__(self) -> None:
        super().__init__("this identity is not linked to the customer")


class AlreadyMergedError(CrmError):
    """The customer is a tombstone: it was merged and now points to another."""

    reason = "ALREADY_MERGED"

    def __init__(self, customer_id: str, merged_into: str) -> None:
        super().__init__(
            f"customer {customer_id} was merged into customer {merged_into}",
            {"customer": f"customers/{customer_id}", "merged_into": f"customers/{merged_into}"},
        )


class NotMergedError(CrmError):
    reason = "NOT_MERGED"

    def __init__(self, customer_id: str) -> None:
        super().__init__(
            f"customer {customer_id} is not merged into another",
            {"customer": f"customers/{customer_id}"},
        )


class TargetMergedIntoSourceError(CrmError):
    """The target redirects to the source already: merging would make a cycle."""

    reason = "TARGET_MERGED_INTO_SOURCE"

    def __init__(self, target_id: str, source_id: str) -> None:
        super().__init__(
            f"customer {target_id} was merged into customer {source_id}; unmerge it first",
            {"target": f"customers/{target_id}", "source": f"customers/{source_id}"},
        )
