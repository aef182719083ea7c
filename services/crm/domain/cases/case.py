"""The Case aggregate: one customer problem, from opening to closing, and its rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from hashlib import sha256
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cases.case_errors import (
    CaseClosedError,
    CaseNotEscalatedError,
    InvalidCaseTransitionError,
)
from services.crm.domain.cases.details import UPDATABLE_FIELDS, CaseDetails
from services.crm.domain.cases.resolution import Resolution
from services.crm.domain.cases.routing import (
    MAX_ESCALATION_LEVEL,
    Escalation,
    EscalationTarget,
    TargetKind,
    check_agent,
    check_queue,
    next_level,
)
from services.crm.domain.cases.status import ACTIVE_STATUSES, SLA_RUNNING, CaseStatus
from services.crm.domain.cases.timeline import ClockInstance, LinkedInteraction, Pause
from services.crm.domain.cause import Cause
from services.crm.domain.channels import Direction
from services.crm.domain.errors import InvalidInputError
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics
from services.crm.domain.visible import says_something

# The actor of what the SLA clocks cause, so a human can tell it from an agent's doing.
SLA_ACTOR = "service:sla"
AUTO_REOPEN_REASON = "the customer wrote again within the reopen window"


@stable_topics("Case")
class Case(Aggregate):
    """A case. Every command takes the time it happens at from the caller's clock,
    so SLA clocks are computed from the history alone."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"case/{idempotency_key}")

    class Opened(Aggregate.Created):
        idempotency_key: str
        customer_id: UUID
        details: CaseDetails
        origin: LinkedInteraction | None
        at: datetime
        cause: Cause

    class Updated(Aggregate.Event):
        details: CaseDetails
        updated_fields: tuple[str, ...]
        at: datetime
        cause: Cause

    class Assigned(Aggregate.Event):
        assignee: str
        queue: str | None
        at: datetime
        cause: Cause

    class Escalated(Aggregate.Event):
        escalation: Escalation
        at: datetime
        cause: Cause

    class Deescalated(Aggregate.Event):
        level: int  # the level it returned to
        at: datetime
        cause: Cause

    class InteractionLinked(Aggregate.Event):
        link: LinkedInteraction
        at: datetime
        cause: Cause

    class SetPending(Aggregate.Event):
        at: datetime
        cause: Cause

    class Resumed(Aggregate.Event):
        at: datetime
        cause: Cause

    class Resolved(Aggregate.Event):
        resolution: Resolution
        at: datetime
        cause: Cause

    class Reopened(Aggregate.Event):
        # The inbound interaction that reopened it; None when an agent did.
        interaction_id: UUID | None
        at: datetime
        cause: Cause

    class Closed(Aggregate.Event):
        at: datetime
        cause: Cause

    class SlaAtRisk(Aggregate.Event):
        clock: ClockInstance
        due_at: datetime
        at: datetime
        cause: Cause

    class SlaBreached(Aggregate.Event):
        clock: ClockInstance
        due_at: datetime
        at: datetime
        cause: Cause

    @event(Opened)
    def __init__(
        self,
        idempotency_key: str,
        customer_id: UUID,
        details: CaseDetails,
        origin: LinkedInteraction | None,
        at: datetime,
        cause: Cause,
    ) -> None:
        self.idempotency_key = idempotency_key
        self.customer_id = customer_id
        self.details = details
        self.status = CaseStatus.NEW
        self.assignee: str | None = None
        self.queue: str | None = None
        # Lists, not tuples or sets: snapshots come back from JSON as lists.
        self.escalations: list[Escalation] = []
        self.links: list[LinkedInteraction] = [origin] if origin else []
        self.resolution: Resolution | None = None
        self.reopen_count = 0
        self.opened_at = at
        self.updated_at = at
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.pauses: list[Pause] = []
        self.at_risk: list[ClockInstance] = []
        self.breached: list[ClockInstance] = []

    @classmethod
    def open(
        cls,
        idempotency_key: str,
        customer_id: UUID,
        details: CaseDetails,
        at: datetime,
        cause: Cause,
        origin: LinkedInteraction | None = None,
    ) -> Case:
        """Open a case, optionally from the interaction it is about, which it links."""
        return cls(
            idempotency_key=idempotency_key,
            customer_id=customer_id,
            details=details,
            origin=origin,
            at=at,
            cause=cause,
        )

    def update(
        self, given: CaseDetails, fields: tuple[str, ...], at: datetime, cause: Cause
    ) -> None:
        """Take the named fields from given; unchanged ones are left out, and an update
        that changes nothing records nothing."""
        for name in fields:
            if name not in UPDATABLE_FIELDS:
                raise InvalidInputError.single(
                    "update_mask", "FIELD_NOT_UPDATABLE", f"{name} is not an updatable case field"
                )
        self._check_not_closed()
        changed = tuple(
            name for name in fields if getattr(given, name) != getattr(self.details, name)
        )
        if changed:
            values = {name: getattr(given, name) for name in changed}
            self._updated(replace(self.details, **values), changed, at, cause)

    @event(Updated)
    def _updated(
        self, details: CaseDetails, updated_fields: tuple[str, ...], at: datetime, cause: Cause
    ) -> None:
        self.details = details
        self.updated_at = at

    def assign(self, assignee: str, at: datetime, cause: Cause, queue: str | None = None) -> None:
        """Give the case to an agent (and, when named, to a queue); a new case opens."""
        check_agent("assignee", assignee)
        if queue is not None:
            check_queue("queue", queue)
        self._check_active(CaseStatus.OPEN)
        self._assigned(assignee, queue, at, cause)

    @event(Assigned)
    def _assigned(self, assignee: str, queue: str | None, at: datetime, cause: Cause) -> None:
        self.assignee = assignee
        if queue is not None:
            self.queue = queue
        self._move(CaseStatus.PENDING if self.status == CaseStatus.PENDING else CaseStatus.OPEN, at)

    def escalate(
        self, target: EscalationTarget, at: datetime, cause: Cause, level: int | None = None
    ) -> None:
        """Send the case one level up, or to the named higher level: to a queue, which
        then holds it unassigned, or to an agent, who then holds it. Someone must act, so
        a new or pending case becomes open."""
        if not says_something(cause.reason):
            raise InvalidInputError.single(
                "reason", "ESCALATION_REASON_REQUIRED", "say why the case is escalated"
            )
        self._check_active(CaseStatus.OPEN)
        reached = next_level(self.escalation_level, level)
        self._escalated(Escalation(reached, target, self.queue, self.assignee), at, cause)

    @event(Escalated)
    def _escalated(self, escalation: Escalation, at: datetime, cause: Cause) -> None:
        self.escalations.append(escalation)
        if escalation.target.kind is TargetKind.QUEUE:
            self.queue, self.assignee = escalation.target.name, None
        else:
            self.assignee = escalation.target.name
        self._move(CaseStatus.OPEN, at)

    def deescalate(self, at: datetime, cause: Cause) -> None:
        """Undo the last escalation: back to the level, target, queue and assignee
        before it."""
        self._check_not_closed()
        if not self.escalations:
            raise CaseNotEscalatedError(str(self.id))
        self._deescalated(self.escalations[-2].level if len(self.escalations) > 1 else 0, at, cause)

    @event(Deescalated)
    def _deescalated(self, level: int, at: datetime, cause: Cause) -> None:
        undone = self.escalations.pop()
        self.queue, self.assignee = undone.queue_before, undone.assignee_before
        self.updated_at = at

    def link_interaction(
        self, link: LinkedInteraction, at: datetime, cause: Cause, reopen_window: timedelta
    ) -> None:
        """Link an interaction; linking one twice changes nothing. The customer writing
        again ends a wait on them, and reopens a case resolved less than reopen_window
        before they wrote."""
        self._check_not_closed()
        if link.interaction_id in self.linked_interaction_ids:
            return
        self._interaction_linked(link, at, cause)
        if link.direction is not Direction.INBOUND:
            return
        paused = self.paused_since
        if paused is not None and link.occurred_at >= paused:
            self._resumed(at, cause)
        resolved = self.resolved_at
        if resolved is not None and resolved < link.occurred_at <= resolved + reopen_window:
            reopen = Cause(cause.actor, cause.correlation_id, AUTO_REOPEN_REASON)
            self._reopened(link.interaction_id, at, reopen)

    @event(InteractionLinked)
    def _interaction_linked(self, link: LinkedInteraction, at: datetime, cause: Cause) -> None:
        self.links.append(link)
        self.updated_at = at

    def wait_on_customer(self, at: datetime, cause: Cause) -> None:
        """Pending: the next move is the customer's, and the SLA clocks pause."""
        self._check_status(CaseStatus.OPEN, CaseStatus.PENDING)
        self._set_pending(at, cause)

    @event(SetPending)
    def _set_pending(self, at: datetime, cause: Cause) -> None:
        self._move(CaseStatus.PENDING, at)

    def resume(self, at: datetime, cause: Cause) -> None:
        """Stop waiting on the customer: open again, and the SLA clocks run on."""
        self._check_status(CaseStatus.PENDING, CaseStatus.OPEN)
        self._resumed(at, cause)

    @event(Resumed)
    def _resumed(self, at: datetime, cause: Cause) -> None:
        self._move(CaseStatus.OPEN, at)

    def resolve(self, resolution: Resolution, at: datetime, cause: Cause) -> None:
        self._check_active(CaseStatus.RESOLVED)
        self._resolved(resolution, at, cause)

    @event(Resolved)
    def _resolved(self, resolution: Resolution, at: datetime, cause: Cause) -> None:
        self.resolution = resolution
        self.resolved_at = at
        self._move(CaseStatus.RESOLVED, at)

    def reopen(self, at: datetime, cause: Cause) -> None:
        """An agent reopens a resolved case; a closed one stays closed."""
        self._check_status(CaseStatus.RESOLVED, CaseStatus.OPEN)
        self._reopened(None, at, cause)

    @event(Reopened)
    def _reopened(self, interaction_id: UUID | None, at: datetime, cause: Cause) -> None:
        self.resolution = None
        self.resolved_at = None
        self.reopen_count += 1
        self._move(CaseStatus.OPEN, at)

    def close(self, at: datetime, cause: Cause) -> None:
        """Close a resolved case for good; an unresolved one is resolved first (e.g.
        with code 'duplicate'), so every closed case says how it ended."""
        self._check_status(CaseStatus.RESOLVED, CaseStatus.CLOSED)
        self._closed(at, cause)

    @event(Closed)
    def _closed(self, at: datetime, cause: Cause) -> None:
        self.closed_at = at
        self._move(CaseStatus.CLOSED, at)

    def sla_at_risk(
        self, clock: ClockInstance, due_at: datetime, at: datetime, correlation_id: str
    ) -> bool:
        """Record that a clock passed its at-risk fraction; False, recording nothing, if
        this instance was already at risk or breached (the deadline engine may retry),
        or if no clock runs now (see SLA_RUNNING)."""
        if clock in self.at_risk or clock in self.breached or self.status not in SLA_RUNNING:
            return False
        self._sla_at_risk(clock, due_at, at, _sla_cause(clock, "at risk", correlation_id))
        return True

    @event(SlaAtRisk)
    def _sla_at_risk(
        self, clock: ClockInstance, due_at: datetime, at: datetime, cause: Cause
    ) -> None:
        self.at_risk.append(clock)
        self.updated_at = at

    def sla_breached(
        self,
        clock: ClockInstance,
        due_at: datetime,
        at: datetime,
        correlation_id: str,
        escalate_to: EscalationTarget | None = None,
    ) -> bool:
        """Record that a clock passed its target, once per instance (False, recording
        nothing, the second time, or when no clock runs now: see SLA_RUNNING); with
        escalate_to, a case below the top level also goes one level up, caused by the SLA
        service."""
        if clock in self.breached or self.status not in SLA_RUNNING:
            return False
        cause = _sla_cause(clock, "breached", correlation_id)
        self._sla_breached(clock, due_at, at, cause)
        level = self.escalation_level + 1
        if escalate_to is not None and level <= MAX_ESCALATION_LEVEL:
            self._escalated(Escalation(level, escalate_to, self.queue, self.assignee), at, cause)
        return True

    @event(SlaBreached)
    def _sla_breached(
        self, clock: ClockInstance, due_at: datetime, at: datetime, cause: Cause
    ) -> None:
        self.breached.append(clock)
        self.updated_at = at

    def _move(self, status: CaseStatus, at: datetime) -> None:
        """Change status; leaving or entering pending ends or starts a pause."""
        if self.status == CaseStatus.PENDING and status != CaseStatus.PENDING:
            self.pauses[-1] = Pause(self.pauses[-1].started_at, at)
        elif status == CaseStatus.PENDING and self.status != CaseStatus.PENDING:
            self.pauses.append(Pause(at))
        self.status = status
        self.updated_at = at

    def _check_status(self, needed: CaseStatus, requested: CaseStatus) -> None:
        if self.status != needed:
            raise InvalidCaseTransitionError(str(self.id), CaseStatus(self.status), requested)

    def _check_active(self, requested: CaseStatus) -> None:
        if self.status not in ACTIVE_STATUSES:
            raise InvalidCaseTransitionError(str(self.id), CaseStatus(self.status), requested)

    def _check_not_closed(self) -> None:
        if self.status == CaseStatus.CLOSED:
            raise CaseClosedError(str(self.id))

    @property
    def escalation_level(self) -> int:
        """0 when not escalated."""
        return self.escalations[-1].level if self.escalations else 0

    @property
    def escalated_to(self) -> EscalationTarget | None:
        return self.escalations[-1].target if self.escalations else None

    @property
    def linked_interaction_ids(self) -> tuple[UUID, ...]:
        return tuple(link.interaction_id for link in self.links)

    @property
    def paused_since(self) -> datetime | None:
        """When the current wait on the customer began; None unless pending."""
        if self.status == CaseStatus.PENDING:
            return self.pauses[-1].started_at
        return None

    @property
    def etag(self) -> str:
        """Changes with every event of the case (AIP-154); opaque to clients."""
        return sha256(f"{self.id}/{self.version}".encode()).hexdigest()[:16]


def _sla_cause(clock: ClockInstance, what: str, correlation_id: str) -> Cause:
    return Cause(SLA_ACTOR, correlation_id, f"{clock.kind} SLA {what}")
