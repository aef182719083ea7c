"""Builders of cases and the values they take, at times tests choose."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID, uuid4

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import Mapper

from services.crm.domain.cases.case import Case
from services.crm.domain.cases.details import CaseDetails
from services.crm.domain.cases.timeline import LinkedInteraction
from services.crm.domain.cause import Cause
from services.crm.domain.channels import Direction
from services.crm.transcoder import crm_transcoder

# A Monday morning; the dates in the tests are written out from here.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REOPEN_WINDOW = timedelta(days=7)


def because(reason: str, actor: str = "agent:test-agent") -> Cause:
    return Cause(actor=actor, correlation_id="test-correlation", reason=reason)


def open_case(at: datetime = T0, origin: LinkedInteraction | None = None) -> Case:
    details = CaseDetails("Router keeps dropping", "since Friday", "connectivity")
    return Case.open(f"random:{uuid4()}", uuid4(), details, at, because(""), origin)


def inbound(occurred_at: datetime, interaction_id: UUID | None = None) -> LinkedInteraction:
    return LinkedInteraction(interaction_id or uuid4(), Direction.INBOUND, occurred_at)


def outbound(occurred_at: datetime) -> LinkedInteraction:
    return LinkedInteraction(uuid4(), Direction.OUTBOUND, occurred_at)


def rebuilt(events: Iterable[CanMutateAggregate[UUID]]) -> Case:
    """The case its events make after a round trip through the stored form."""
    mapper: Mapper[UUID] = Mapper(transcoder=crm_transcoder())
    case: Case | None = None
    for event in events:
        stored = mapper.to_domain_event(mapper.to_stored_event(event))
        case = cast(Case, cast(CanMutateAggregate[UUID], stored).mutate(case))
    assert case is not None
    return case
