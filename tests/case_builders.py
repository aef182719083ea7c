"""Builders of cases and the values they take, at times tests choose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.crm.domain.cases.case import Case
from services.crm.domain.cases.details import CaseDetails
from services.crm.domain.cases.timeline import LinkedInteraction
from services.crm.domain.cause import Cause
from services.crm.domain.channels import Direction

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
