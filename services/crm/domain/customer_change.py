"""CustomerChange: a change to who a customer is, as their timeline shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import UnlinkKind


class CustomerChangeKind(StrEnum):
    IDENTITY_LINKED = "identity_linked"
    IDENTITY_UNLINKED = "identity_unlinked"
    MERGED_FROM = "merged_from"
    SPLIT_OFF = "split_off"
    UNMERGED_FROM = "unmerged_from"
    PROFILE_UPDATED = "profile_updated"


@dataclass(frozen=True)
class CustomerChange:
    """ "Merged from customer X on date by agent Y": who, when, why, and the evidence."""

    kind: CustomerChangeKind
    customer_id: UUID
    occurred_at: datetime
    actor: str
    reason: str = ""
    identity: Identity | None = None
    other_customer_id: UUID | None = None
    evidence: str = ""
    # How an identity was unlinked; None on other changes and on entries stored
    # before unlinks had a kind (all of them corrections).
    unlink_kind: UnlinkKind | None = None
    # A profile update: the fields it changed, and the display name after it.
    updated_fields: tuple[str, ...] = ()
    display_name: str = ""
