"""SLA clocks: targets counted in business time, paused while the case waits on the customer.

A clock instance (`SlaClock`) is its history: when it started, its pauses (the case was
pending) and when it stopped, if it did. Everything else is computed from that history and a
target, so a change of priority or policy recomputes the due time with the time already spent
counting: call `reading` again with the new target. The three kinds and what starts and stops
them are data (`CLOCK_RULES`) for the Case aggregate to follow; `SlaPolicy` holds the targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from services.crm.domain.cases.business_time import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)
from services.crm.domain.cases.priority import Priority
from services.crm.domain.cases.timeline import ClockKind, Pause
from services.crm.domain.errors import Violations

PRIORITIES = tuple(str(priority) for priority in Priority)
DEFAULT_AT_RISK_FRACTION = 0.8


class CaseMoment(StrEnum):
    """What happens to a case that can start or stop a clock."""

    OPENED = "opened"
    INBOUND_INTERACTION_LINKED = "inbound_interaction_linked"
    OUTBOUND_INTERACTION_LINKED = "outbound_interaction_linked"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class ClockRule:
    """A start while an instance runs is ignored; `once` forbids a second instance."""

    starts_on: CaseMoment
    stops_on: CaseMoment
    once: bool


CLOCK_RULES: Mapping[ClockKind, ClockRule] = MappingProxyType(
    {
        ClockKind.FIRST_RESPONSE: ClockRule(
            CaseMoment.OPENED, CaseMoment.OUTBOUND_INTERACTION_LINKED, once=True
        ),
        ClockKind.NEXT_RESPONSE: ClockRule(
            CaseMoment.INBOUND_INTERACTION_LINKED,
            CaseMoment.OUTBOUND_INTERACTION_LINKED,
            once=False,
        ),
        ClockKind.RESOLUTION: ClockRule(CaseMoment.OPENED, CaseMoment.RESOLVED, once=True),
    }
)


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class SlaClock:
    """One clock instance: a next-response clock has one per unanswered inbound message."""

    kind: ClockKind
    started: datetime
    pauses: tuple[Pause, ...] = ()
    stopped: datetime | None = None

    @property
    def state(self) -> ClockState:
        if self.stopped is not None:
            return ClockState.STOPPED
        paused = bool(self.pauses) and self.pauses[-1].ended_at is None
        return ClockState.PAUSED if paused else ClockState.RUNNING

    def pause(self, at: datetime) -> SlaClock:
        if self.state is not ClockState.RUNNING:
            return self
        return replace(self, pauses=(*self.pauses, Pause(at)))

    def resume(self, at: datetime) -> SlaClock:
        if self.state is not ClockState.PAUSED:
            return self
        return replace(self, pauses=(*self.pauses[:-1], Pause(self.pauses[-1].started_at, at)))

    def stop(self, at: datetime) -> SlaClock:
        if self.state is ClockState.STOPPED:
            return self
        return replace(self.resume(at), stopped=at)

    def running_spans(self) -> Iterator[tuple[datetime, datetime | None]]:
        """The stretches it ran; the last one open (None) while it still runs."""
        begin = self.started
        for pause in self.pauses:
            yield begin, pause.started_at
            if pause.ended_at is None:
                return
            begin = pause.ended_at
        yield begin, self.stopped


@dataclass(frozen=True)
class ClockReading:
    """A clock against its target at one moment: what the console's countdown shows."""

    state: ClockState
    spent: timedelta
    remaining: timedelta
    elapsed_fraction: float
    due_time: datetime | None
    at_risk_time: datetime | None
    at_risk: bool
    breached: bool


def spent(calendar: BusinessCalendar, clock: SlaClock, now: datetime) -> timedelta:
    """Business time the clock has run by `now`."""
    total = timedelta(0)
    for begin, end in clock.running_spans():
        total += business_time_between(calendar, begin, now if end is None else min(end, now))
    return total


def due_time(calendar: BusinessCalendar, clock: SlaClock, target: timedelta) -> datetime | None:
    """When the clock's spent time reaches `target` if it keeps running; None while it is
    paused, or once it stopped, short of the target."""
    used = timedelta(0)
    for begin, end in clock.running_spans():
        span = None if end is None else business_time_between(calendar, begin, end)
        if span is None or used + span >= target:
            return add_business_time(calendar, begin, target - used)
        used += span
    return None


def reading(
    calendar: BusinessCalendar,
    clock: SlaClock,
    target: timedelta,
    now: datetime,
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION,
) -> ClockReading:
    """A running clock is at risk, then breached, from the moment it reaches that share of
    its target; a clock stopped at exactly that moment made it in time."""
    used = spent(calendar, clock, now)
    due = due_time(calendar, clock, target)
    at_risk_time = due_time(calendar, clock, target * at_risk_fraction)
    return ClockReading(
        state=clock.state,
        spent=used,
        remaining=target - used,
        elapsed_fraction=used / target if target else 1.0,
        due_time=due,
        at_risk_time=at_risk_time,
        at_risk=_reached(clock, at_risk_time, now),
        breached=_reached(clock, due, now),
    )


def _reached(clock: SlaClock, moment: datetime | None, now: datetime) -> bool:
    if moment is None:
        return False
    return moment < clock.stopped if clock.stopped is not None else moment <= now


@dataclass(frozen=True)
class SlaTarget:
    priority: str
    clock: ClockKind
    target: timedelta


@dataclass(frozen=True)
class SlaPolicy:
    """Targets per priority and clock kind, in the business time of one calendar."""

    calendar_id: str
    targets: tuple[SlaTarget, ...]
    reopen_window: timedelta
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION
    escalate_on_breach: bool = False

    def __post_init__(self) -> None:
        _check_policy(self)

    def target(self, priority: str, clock: ClockKind) -> timedelta | None:
        """None: this policy runs no such clock for this priority."""
        for candidate in self.targets:
            if (candidate.priority, candidate.clock) == (priority, clock):
                return candidate.target
        return None


def _check_policy(policy: SlaPolicy) -> None:
    problems = Violations()
    problems.check(bool(policy.calendar_id), "calendar", "REQUIRED", "name a business calendar")
    problems.check(
        0 < policy.at_risk_fraction <= 1,
        "at_risk_fraction",
        "INVALID_AT_RISK_FRACTION",
        "a share of the target above 0 and at most 1",
    )
    problems.check(
        policy.reopen_window >= timedelta(0),
        "reopen_window",
        "NEGATIVE_DURATION",
        "must not be negative",
    )
    seen: set[tuple[str, ClockKind]] = set()
    for index, target in enumerate(policy.targets):
        _check_target(problems, f"targets[{index}]", target, seen)
    problems.raise_if_any()


def _check_target(
    problems: Violations, where: str, target: SlaTarget, seen: set[tuple[str, ClockKind]]
) -> None:
    key = (target.priority, target.clock)
    problems.check(
        target.priority in PRIORITIES,
        f"{where}.priority",
        "UNKNOWN_PRIORITY",
        f"one of {', '.join(PRIORITIES)}",
    )
    problems.check(
        target.target > timedelta(0), f"{where}.target", "INVALID_TARGET", "must be positive"
    )
    problems.check(
        key not in seen,
        where,
        "DUPLICATE_TARGET",
        f"a second {target.clock.value} target for {target.priority}",
    )
    seen.add(key)
