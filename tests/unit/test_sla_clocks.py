"""SLA clocks against due times worked out by hand in a London 09:00-17:00 weekday office."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.crm.domain.cases.business_time import BusinessCalendar, OpeningHours
from services.crm.domain.cases.sla import (
    CLOCK_RULES,
    CaseMoment,
    ClockState,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    due_time,
    reading,
)
from services.crm.domain.cases.timeline import ClockKind
from services.crm.domain.errors import InvalidInputError

OFFICE = BusinessCalendar(
    "Europe/London", tuple(OpeningHours(day, time(9), time(17)) for day in range(5))
)
HOURS = timedelta(hours=1)
RESOLUTION = ClockKind.RESOLUTION


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


MONDAY_9 = utc(2026, 3, 2, 9)  # GMT, so UTC is the office's wall clock until 29 March


def test_a_pause_across_the_weekend_moves_the_due_time_by_the_business_hours_it_covered() -> None:
    opened = SlaClock(RESOLUTION, started=utc(2026, 3, 6, 10))
    # Pending from Fri 12:00 to Mon 11:00: 2 h ran on Friday, 6 h remain from Mon 11:00.
    waited = opened.pause(utc(2026, 3, 6, 12)).resume(utc(2026, 3, 9, 11))

    assert due_time(OFFICE, opened, 8 * HOURS) == utc(2026, 3, 9, 10)
    assert due_time(OFFICE, waited, 8 * HOURS) == utc(2026, 3, 9, 17)


def test_a_paused_clock_has_no_due_time_and_its_countdown_stands_still() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9).pause(utc(2026, 3, 2, 12))

    on_saturday = reading(OFFICE, clock, 8 * HOURS, now=utc(2026, 3, 7, 12))

    assert on_saturday.state is ClockState.PAUSED
    assert on_saturday.due_time is None
    assert (on_saturday.spent, on_saturday.remaining) == (3 * HOURS, 5 * HOURS)


def test_two_pauses_both_count_out() -> None:
    clock = (
        SlaClock(RESOLUTION, started=MONDAY_9)
        .pause(utc(2026, 3, 2, 10))
        .resume(utc(2026, 3, 2, 11))
        .pause(utc(2026, 3, 2, 12))
        .resume(utc(2026, 3, 2, 14))
    )

    # Ran 09-10, 11-12 and from 14:00: the fourth hour ends at 16:00.
    assert due_time(OFFICE, clock, 4 * HOURS) == utc(2026, 3, 2, 16)


def test_a_priority_change_half_way_keeps_the_time_already_spent() -> None:
    policy = SlaPolicy(
        "calendars/london",
        (
            SlaTarget("normal", RESOLUTION, 16 * HOURS),
            SlaTarget("high", RESOLUTION, 8 * HOURS),
        ),
        reopen_window=timedelta(days=7),
    )
    clock = SlaClock(RESOLUTION, started=MONDAY_9)
    normal, high = policy.target("normal", RESOLUTION), policy.target("high", RESOLUTION)
    assert normal is not None
    assert high is not None

    # At Mon 13:00 the case becomes high: 4 h spent, 4 h left of the new 8 h target.
    raised = reading(OFFICE, clock, high, now=utc(2026, 3, 2, 13))

    assert due_time(OFFICE, clock, normal) == utc(2026, 3, 3, 17)
    assert raised.due_time == utc(2026, 3, 2, 17)
    assert (raised.spent, raised.remaining, raised.elapsed_fraction) == (4 * HOURS, 4 * HOURS, 0.5)


def test_a_priority_change_after_the_new_target_was_used_up_is_breached_at_once() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9)

    # Raised to an 8 h target on Tue 10:00, with 9 h spent: it fell due Mon 17:00.
    raised = reading(OFFICE, clock, 8 * HOURS, now=utc(2026, 3, 3, 10))

    assert raised.due_time == utc(2026, 3, 2, 17)
    assert raised.breached
    assert raised.remaining == -HOURS


def test_a_clock_is_at_risk_at_80_percent_of_its_target_by_default() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9)

    # 10 h target: 8 h is Mon 17:00; due Tue 11:00.
    before = reading(OFFICE, clock, 10 * HOURS, now=utc(2026, 3, 2, 16, 59))
    evening = reading(OFFICE, clock, 10 * HOURS, now=utc(2026, 3, 2, 20))
    due = reading(OFFICE, clock, 10 * HOURS, now=utc(2026, 3, 3, 11))

    assert (before.at_risk_time, before.due_time) == (utc(2026, 3, 2, 17), utc(2026, 3, 3, 11))
    assert (before.at_risk, evening.at_risk, evening.breached) == (False, True, False)
    assert evening.remaining == 2 * HOURS
    assert due.breached


def test_the_at_risk_share_follows_the_policy() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9)

    half = reading(OFFICE, clock, 10 * HOURS, now=MONDAY_9, at_risk_fraction=0.5)

    assert half.at_risk_time == utc(2026, 3, 2, 14)


@pytest.mark.parametrize(
    ("answered", "breached"),
    [(utc(2026, 3, 2, 16), False), (utc(2026, 3, 2, 17), False), (utc(2026, 3, 2, 20), True)],
    ids=["in-time", "at-the-due-time", "after-closing"],
)
def test_a_stopped_clock_is_breached_only_when_it_stopped_after_its_due_time(
    answered: datetime, breached: bool
) -> None:
    clock = SlaClock(ClockKind.FIRST_RESPONSE, started=MONDAY_9).stop(answered)

    stopped = reading(OFFICE, clock, 8 * HOURS, now=utc(2026, 3, 4, 12))

    assert stopped.state is ClockState.STOPPED
    assert stopped.breached is breached


def test_a_clock_stopped_short_of_its_target_has_no_due_time() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9).stop(utc(2026, 3, 2, 12))

    assert due_time(OFFICE, clock, 8 * HOURS) is None
    assert reading(OFFICE, clock, 8 * HOURS, now=utc(2026, 3, 9, 9)).spent == 3 * HOURS


def test_stopping_a_paused_clock_ends_its_pause() -> None:
    clock = SlaClock(RESOLUTION, started=MONDAY_9).pause(utc(2026, 3, 2, 10))

    stopped = clock.stop(utc(2026, 3, 2, 15))

    assert stopped.state is ClockState.STOPPED
    assert reading(OFFICE, stopped, 8 * HOURS, now=utc(2026, 3, 3, 9)).spent == HOURS


def test_pausing_a_paused_clock_or_stopping_a_stopped_one_keeps_the_first_moment() -> None:
    paused = SlaClock(RESOLUTION, started=MONDAY_9).pause(utc(2026, 3, 2, 10))
    stopped = SlaClock(RESOLUTION, started=MONDAY_9).stop(utc(2026, 3, 2, 10))

    assert paused.pause(utc(2026, 3, 2, 11)) == paused
    assert stopped.stop(utc(2026, 3, 2, 11)) == stopped


def test_the_clock_rules_start_next_response_at_each_inbound_and_stop_responses_outbound() -> None:
    first, following = CLOCK_RULES[ClockKind.FIRST_RESPONSE], CLOCK_RULES[ClockKind.NEXT_RESPONSE]
    resolution = CLOCK_RULES[ClockKind.RESOLUTION]

    assert (first.starts_on, first.stops_on, first.once) == (
        CaseMoment.OPENED,
        CaseMoment.OUTBOUND_INTERACTION_LINKED,
        True,
    )
    assert (following.starts_on, following.stops_on, following.once) == (
        CaseMoment.INBOUND_INTERACTION_LINKED,
        CaseMoment.OUTBOUND_INTERACTION_LINKED,
        False,
    )
    assert (resolution.starts_on, resolution.stops_on, resolution.once) == (
        CaseMoment.OPENED,
        CaseMoment.RESOLVED,
        True,
    )


def test_a_policy_without_a_target_runs_no_such_clock() -> None:
    policy = SlaPolicy(
        "calendars/london", (SlaTarget("urgent", RESOLUTION, HOURS),), timedelta(days=3)
    )

    assert (policy.at_risk_fraction, policy.escalate_on_breach) == (0.8, False)
    assert policy.target("urgent", ClockKind.FIRST_RESPONSE) is None
    assert policy.target("low", RESOLUTION) is None


@pytest.mark.parametrize(
    ("fraction", "accepted"), [(0.0, False), (0.01, True), (1.0, True), (1.01, False)]
)
def test_the_at_risk_share_is_above_zero_and_at_most_the_whole_target(
    fraction: float, accepted: bool
) -> None:
    def policy() -> SlaPolicy:
        return SlaPolicy("calendars/london", (), timedelta(0), at_risk_fraction=fraction)

    if accepted:
        assert policy().at_risk_fraction == fraction
    else:
        with pytest.raises(InvalidInputError):
            policy()


def test_a_bad_policy_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        SlaPolicy(
            "",
            (
                SlaTarget("critical", RESOLUTION, HOURS),
                SlaTarget("high", RESOLUTION, timedelta(0)),
                SlaTarget("high", RESOLUTION, HOURS),
            ),
            reopen_window=-HOURS,
            at_risk_fraction=1.5,
        )

    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("calendar", "REQUIRED"),
        ("at_risk_fraction", "INVALID_AT_RISK_FRACTION"),
        ("reopen_window", "NEGATIVE_DURATION"),
        ("targets[0].priority", "UNKNOWN_PRIORITY"),
        ("targets[1].target", "INVALID_TARGET"),
        ("targets[2]", "DUPLICATE_TARGET"),
    ]
