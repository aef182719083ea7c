"""Random sequences of the case's methods: the aggregate accepts and refuses exactly what
a small table of the README's rules does, its state equals the table's after every step,
and the case rebuilt from its stored events equals it at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.crm.domain.cases.case import Case
from services.crm.domain.cases.resolution import Resolution
from services.crm.domain.cases.routing import EscalationTarget
from services.crm.domain.cases.timeline import ClockInstance, ClockKind, LinkedInteraction
from services.crm.domain.channels import Direction
from services.crm.domain.errors import CrmError
from tests.case_builders import T0, because, open_case, rebuilt

NEW, OPEN, PENDING, RESOLVED, CLOSED = "new", "open", "pending", "resolved", "closed"
ACTIVE = {NEW, OPEN, PENDING}
SLA_RUNNING = {NEW, OPEN}  # Pending pauses the clocks; resolved and closed owe nothing.
# What each status-changing method does from each status; a status not listed refuses
# with INVALID_CASE_TRANSITION, naming the status the method asked for.
TRANSITIONS: dict[str, dict[str, str]] = {
    "assign": {NEW: OPEN, OPEN: OPEN, PENDING: PENDING},
    "escalate": {NEW: OPEN, OPEN: OPEN, PENDING: OPEN},
    "wait_on_customer": {OPEN: PENDING},
    "resume": {PENDING: OPEN},
    "resolve": {NEW: RESOLVED, OPEN: RESOLVED, PENDING: RESOLVED},
    "reopen": {RESOLVED: OPEN},
    "close": {RESOLVED: CLOSED},
}
REQUESTED = {
    "assign": OPEN,
    "escalate": OPEN,
    "wait_on_customer": PENDING,
    "resume": OPEN,
    "resolve": RESOLVED,
    "reopen": OPEN,
    "close": CLOSED,
}
TOP_LEVEL = 3
WINDOW = timedelta(hours=2)
AGENTS = ("agent:ann", "agent:bob")
QUEUES = ("tier1", "supervisors")
CLOCKS = (
    ("first_response", "first_response"),
    ("next_response", "next_response/1"),
    ("next_response", "next_response/2"),
)
SLA_TARGET = ("queue", "supervisors")
NAMESPACE = UUID("00000000-0000-0000-0000-00000000ca5e")

Op = tuple[Any, ...]
STATUS_METHODS = ("wait_on_customer", "resume", "resolve", "reopen", "close")
link = st.tuples(
    st.just("link"),
    st.integers(0, 3),  # which interaction
    st.booleans(),  # inbound
    st.sampled_from([0, 1, 60, 121]),  # written this many minutes before it is linked
)
# One branch per method (links twice), so each is drawn about as often as the others.
operation = st.one_of(
    st.tuples(st.just("assign"), st.sampled_from(AGENTS)),
    st.tuples(
        st.just("escalate"),
        st.sampled_from([("queue", q) for q in QUEUES] + [("agent", a) for a in AGENTS]),
        st.one_of(st.none(), st.integers(0, TOP_LEVEL + 1)),
        st.sampled_from([True, True, True, False]),  # with a reason
    ),
    st.tuples(st.just("deescalate")),
    link,
    link,
    *(st.tuples(st.just(name)) for name in STATUS_METHODS),
    st.tuples(st.just("at_risk"), st.integers(0, len(CLOCKS) - 1)),
    st.tuples(st.just("breach"), st.integers(0, len(CLOCKS) - 1), st.booleans()),
)
step = st.tuples(st.sampled_from([0, 1, 60, 120]), operation)


@dataclass
class Model:
    """The case as the README's rules say it should be."""

    status: str = NEW
    assignee: str | None = None
    queue: str | None = None
    # Each step: the level, the target, and the queue and assignee before it.
    escalations: list[tuple[int, tuple[str, str], str | None, str | None]] = field(
        default_factory=list
    )
    links: list[int] = field(default_factory=list)
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    resolved_at: datetime | None = None
    reopen_count: int = 0
    at_risk: set[int] = field(default_factory=set)
    breached: set[int] = field(default_factory=set)
    updated_at: datetime = T0

    @property
    def level(self) -> int:
        return self.escalations[-1][0] if self.escalations else 0

    def become(self, status: str, at: datetime) -> None:
        if self.status == PENDING and status != PENDING:
            self.pauses[-1] = (self.pauses[-1][0], at)
        if status == PENDING and self.status != PENDING:
            self.pauses.append((at, None))
        if status == RESOLVED:
            self.resolved_at = at
        if self.status == RESOLVED and status == OPEN:
            self.resolved_at = None
            self.reopen_count += 1
        self.status = status
        self.updated_at = at

    def transition(self, method: str, at: datetime) -> str:
        target = TRANSITIONS[method].get(self.status)
        if target is None:
            return f"INVALID_CASE_TRANSITION {self.status}->{REQUESTED[method]}"
        self.become(target, at)
        return "ok"

    def escalate(self, to: tuple[str, str], level: int, at: datetime) -> None:
        self.escalations.append((level, to, self.queue, self.assignee))
        if to[0] == "queue":
            self.queue, self.assignee = to[1], None
        else:
            self.assignee = to[1]
        self.become(OPEN, at)

    def apply(self, op: Op, at: datetime) -> Any:
        name = op[0]
        if name == "assign":
            result = self.transition(name, at)
            if result == "ok":
                self.assignee = op[1]
            return result
        if name == "escalate":
            _, to, named, with_reason = op
            if not with_reason:
                return "ESCALATION_REASON_REQUIRED"
            if self.status not in ACTIVE:
                return f"INVALID_CASE_TRANSITION {self.status}->{OPEN}"
            level = self.level + 1 if named is None else named
            if not self.level < level <= TOP_LEVEL:
                return "INVALID_ESCALATION_LEVEL"
            self.escalate(to, level, at)
            return "ok"
        if name == "deescalate":
            if self.status == CLOSED:
                return "CASE_CLOSED"
            if not self.escalations:
                return "CASE_NOT_ESCALATED"
            _, _, self.queue, self.assignee = self.escalations.pop()
            self.updated_at = at
            return "ok"
        if name == "link":
            return self.link(op[1], op[2], at - timedelta(minutes=op[3]), at)
        if name == "at_risk":
            if op[1] in self.at_risk | self.breached or self.status not in SLA_RUNNING:
                return False
            self.at_risk.add(op[1])
            self.updated_at = at
            return True
        if name == "breach":
            return self.breach(op[1], op[2], at)
        return self.transition(name, at)

    def link(self, which: int, is_inbound: bool, written: datetime, at: datetime) -> str:
        if self.status == CLOSED:
            return "CASE_CLOSED"
        if which in self.links:
            return "ok"
        self.links.append(which)
        self.updated_at = at
        if is_inbound and self.status == PENDING and written >= self.pauses[-1][0]:
            self.become(OPEN, at)
        resolved = self.resolved_at
        reopens = resolved is not None and resolved < written <= resolved + WINDOW
        if is_inbound and self.status == RESOLVED and reopens:
            self.become(OPEN, at)
        return "ok"

    def breach(self, clock: int, auto_escalate: bool, at: datetime) -> bool:
        if clock in self.breached or self.status not in SLA_RUNNING:
            return False
        self.breached.add(clock)
        self.updated_at = at
        if auto_escalate and self.level < TOP_LEVEL:
            self.escalate(SLA_TARGET, self.level + 1, at)
        return True


def perform(case: Case, op: Op, at: datetime) -> Any:
    name = op[0]
    try:
        if name == "assign":
            case.assign(op[1], at, because(""))
        elif name == "escalate":
            _, (kind, who), level, with_reason = op
            target = EscalationTarget.queue(who) if kind == "queue" else EscalationTarget.agent(who)
            case.escalate(target, at, because("stuck" if with_reason else " "), level)
        elif name == "deescalate":
            case.deescalate(at, because(""))
        elif name == "link":
            case.link_interaction(
                linked(op[1], op[2], at - timedelta(minutes=op[3])), at, because(""), WINDOW
            )
        elif name == "at_risk":
            return case.sla_at_risk(clock(op[1]), at, at, "c")
        elif name == "breach":
            escalate_to = EscalationTarget.queue(SLA_TARGET[1]) if op[2] else None
            return case.sla_breached(clock(op[1]), at, at, "c", escalate_to)
        elif name == "resolve":
            case.resolve(Resolution("answered", "done"), at, because(""))
        else:
            getattr(case, name)(at, because(""))
    except CrmError as error:
        if error.reason == "INVALID_CASE_TRANSITION":
            return f"{error.reason} {error.metadata['current']}->{error.metadata['requested']}"
        return error.reason
    return "ok"


def linked(which: int, is_inbound: bool, written: datetime) -> LinkedInteraction:
    direction = Direction.INBOUND if is_inbound else Direction.OUTBOUND
    return LinkedInteraction(uuid5(NAMESPACE, str(which)), direction, written)


def clock(index: int) -> ClockInstance:
    kind, instance = CLOCKS[index]
    return ClockInstance(ClockKind(kind), instance)


def seen(case: Case) -> dict[str, Any]:
    top = case.escalated_to
    return {
        "status": str(case.status),
        "assignee": case.assignee,
        "queue": case.queue,
        "level": case.escalation_level,
        "escalated_to": (str(top.kind), top.name) if top else None,
        "links": list(case.linked_interaction_ids),
        "pauses": [(p.started_at, p.ended_at) for p in case.pauses],
        "resolved_at": case.resolved_at,
        "resolved": case.resolution is not None,
        "reopen_count": case.reopen_count,
        "at_risk": {CLOCKS.index((str(c.kind), c.instance_id)) for c in case.at_risk},
        "breached": {CLOCKS.index((str(c.kind), c.instance_id)) for c in case.breached},
        "updated_at": case.updated_at,
    }


def expected(model: Model) -> dict[str, Any]:
    return {
        "status": model.status,
        "assignee": model.assignee,
        "queue": model.queue,
        "level": model.level,
        "escalated_to": model.escalations[-1][1] if model.escalations else None,
        "links": [uuid5(NAMESPACE, str(which)) for which in model.links],
        "pauses": model.pauses,
        "resolved_at": model.resolved_at,
        "resolved": model.status in (RESOLVED, CLOSED),
        "reopen_count": model.reopen_count,
        "at_risk": model.at_risk,
        "breached": model.breached,
        "updated_at": model.updated_at,
    }


@settings(max_examples=500, deadline=None)
@given(st.lists(step, max_size=50))
# The customer writing exactly as the reopen window ends, and while pending.
@example([(0, ("resolve",)), (120, ("link", 0, True, 0))])
@example([(0, ("assign", AGENTS[0])), (0, ("wait_on_customer",)), (1, ("link", 0, True, 1))])
def test_the_case_accepts_refuses_and_ends_as_the_model_does(steps: list[tuple[int, Op]]) -> None:
    case, model, at = open_case(), Model(), T0
    events = list(case.collect_events())
    for minutes, op in steps:
        at += timedelta(minutes=minutes)
        assert perform(case, op, at) == model.apply(op, at), op
        events += case.collect_events()
        assert seen(case) == expected(model), op
    assert rebuilt(events) == case
