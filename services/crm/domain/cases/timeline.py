"""The times in a case's history that its SLA clocks are computed from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.crm.domain.channels import Direction


@dataclass(frozen=True)
class LinkedInteraction:
    """An interaction linked to a case: inbound ones start a next-response clock,
    outbound ones answer it."""

    interaction_id: UUID
    direction: Direction
    occurred_at: datetime


@dataclass(frozen=True)
class Pause:
    """A stretch of waiting on the customer, during which SLA clocks stand still;
    ended_at is None while the case is still pending."""

    started_at: datetime
    ended_at: datetime | None = None


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class ClockInstance:
    """One run of one clock, e.g. the next-response clock an inbound interaction
    started; at risk and breached are each recorded at most once per instance."""

    kind: ClockKind
    instance_id: str
