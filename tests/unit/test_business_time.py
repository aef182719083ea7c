"""Business-time arithmetic against due times worked out by hand, one calendar rule each."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.crm.domain.cases.business_time import (
    BusinessCalendar,
    OpeningHours,
    add_business_time,
    business_time_between,
)
from services.crm.domain.errors import InvalidInputError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
HOURS = timedelta(hours=1)


def weekdays(opens: time, closes: time) -> tuple[OpeningHours, ...]:
    return tuple(OpeningHours(day, opens, closes) for day in range(5))


def every_day_all_day() -> tuple[OpeningHours, ...]:
    return tuple(OpeningHours(day, time(0), time(0)) for day in range(7))


NINE_TO_FIVE = weekdays(time(9), time(17))
LONDON_OFFICE = BusinessCalendar("Europe/London", NINE_TO_FIVE)
ENGLAND_OFFICE = BusinessCalendar("Europe/London", NINE_TO_FIVE, country="GB", subdivision="ENG")
US_OFFICE = BusinessCalendar("America/New_York", NINE_TO_FIVE, country="US")
NEW_YORK_OFFICE = BusinessCalendar("America/New_York", NINE_TO_FIVE)
LONDON_ROUND_THE_CLOCK = BusinessCalendar("Europe/London", every_day_all_day())
NEW_YORK_ROUND_THE_CLOCK = BusinessCalendar("America/New_York", every_day_all_day())


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_friday_afternoon_case_runs_on_into_monday_skipping_the_weekend() -> None:
    # Fri 2026-03-06 15:00 GMT: two hours on Friday, two more from 09:00 on Monday.
    due = add_business_time(LONDON_OFFICE, utc(2026, 3, 6, 15), 4 * HOURS)

    assert due == utc(2026, 3, 9, 11)


def test_christmas_and_the_observed_boxing_day_are_closed_in_england() -> None:
    # Thu 24 Dec 15:00: 2 h that day; Fri 25 Christmas, weekend, Mon 28 Boxing Day observed.
    due = add_business_time(ENGLAND_OFFICE, utc(2026, 12, 24, 15), 4 * HOURS)

    assert due == utc(2026, 12, 29, 11)


def test_thanksgiving_is_closed_in_the_us_but_the_friday_after_is_open() -> None:
    # Wed 25 Nov 16:00 EST (21:00 UTC): 1 h that day; Thu 26 closed; Fri 27 09:00-10:00 EST.
    due = add_business_time(US_OFFICE, utc(2026, 11, 25, 21), 2 * HOURS)

    assert due == utc(2026, 11, 27, 15)


def test_the_subdivision_s_own_holidays_count_too() -> None:
    scotland = BusinessCalendar("Europe/London", NINE_TO_FIVE, country="GB", subdivision="SCT")
    # Wed 31 Dec 2025 16:00 GMT: 1 h; 1 Jan closed in both; 2 Jan only in Scotland.
    start = utc(2025, 12, 31, 16)

    assert add_business_time(ENGLAND_OFFICE, start, 2 * HOURS) == utc(2026, 1, 2, 10)
    assert add_business_time(scotland, start, 2 * HOURS) == utc(2026, 1, 5, 10)


def test_a_custom_closed_date_is_skipped() -> None:
    office = BusinessCalendar(
        "Europe/London", NINE_TO_FIVE, closed_dates=frozenset({date(2026, 6, 10)})
    )
    # Tue 9 Jun 16:00 BST (15:00 UTC): 1 h; Wed 10 closed; Thu 11 09:00-11:00 BST.
    due = add_business_time(office, utc(2026, 6, 9, 15), 3 * HOURS)

    assert due == utc(2026, 6, 11, 10)


def test_a_case_opened_in_the_evening_starts_counting_at_the_next_opening() -> None:
    # Tue 9 Jun 20:00 BST: the clock starts Wed 09:00 BST, one hour later is 10:00 BST.
    due = add_business_time(LONDON_OFFICE, utc(2026, 6, 9, 19), HOURS)

    assert due == utc(2026, 6, 10, 9)


def test_a_case_opened_on_saturday_starts_counting_on_monday_morning() -> None:
    # Sat 13 Jun 11:00 BST: Mon 15 Jun opens 09:00 BST (08:00 UTC); due 09:30 BST.
    due = add_business_time(LONDON_OFFICE, utc(2026, 6, 13, 10), timedelta(minutes=30))

    assert due == utc(2026, 6, 15, 8, 30)


def test_a_lunch_break_does_not_count() -> None:
    office = BusinessCalendar(
        "Europe/London",
        weekdays(time(9), time(12)) + tuple(OpeningHours(d, time(13), time(17)) for d in range(5)),
    )
    # Mon 2 Mar 11:00 GMT: 1 h to noon, lunch, 1 h from 13:00.
    assert add_business_time(office, utc(2026, 3, 2, 11), 2 * HOURS) == utc(2026, 3, 2, 14)


def test_a_duration_that_ends_at_closing_time_is_due_at_closing_not_next_morning() -> None:
    assert add_business_time(LONDON_OFFICE, utc(2026, 3, 2, 9), 8 * HOURS) == utc(2026, 3, 2, 17)


@pytest.mark.parametrize(
    ("calendar", "start", "business_hours", "due"),
    [
        # Round the clock, a day is 24 real hours, whatever the wall clock says:
        # Sat 28 Mar 12:00 GMT; Sun 29 Mar 01:00 GMT becomes 02:00 BST: 13:00 BST next day.
        (LONDON_ROUND_THE_CLOCK, utc(2026, 3, 28, 12), 24, utc(2026, 3, 29, 12)),
        # Sat 24 Oct 12:00 BST; Sun 25 Oct 02:00 BST becomes 01:00 GMT: 11:00 GMT next day.
        (LONDON_ROUND_THE_CLOCK, utc(2026, 10, 24, 11), 24, utc(2026, 10, 25, 11)),
        # Sat 7 Mar 12:00 EST; Sun 8 Mar 02:00 EST becomes 03:00 EDT: 13:00 EDT next day.
        (NEW_YORK_ROUND_THE_CLOCK, utc(2026, 3, 7, 17), 24, utc(2026, 3, 8, 17)),
        # Sat 31 Oct 12:00 EDT; Sun 1 Nov 02:00 EDT becomes 01:00 EST: 11:00 EST next day.
        (NEW_YORK_ROUND_THE_CLOCK, utc(2026, 10, 31, 16), 24, utc(2026, 11, 1, 16)),
        # Office hours stay on the local wall clock:
        # Fri 27 Mar 16:00 GMT: 1 h; Mon 30 Mar opens 09:00 BST = 08:00 UTC; due 10:00 BST.
        (LONDON_OFFICE, utc(2026, 3, 27, 16), 2, utc(2026, 3, 30, 9)),
        # Fri 23 Oct 16:00 BST: 1 h; Mon 26 Oct opens 09:00 GMT; due 10:00 GMT.
        (LONDON_OFFICE, utc(2026, 10, 23, 15), 2, utc(2026, 10, 26, 10)),
        # Fri 6 Mar 16:00 EST: 1 h; Mon 9 Mar opens 09:00 EDT = 13:00 UTC; due 10:00 EDT.
        (NEW_YORK_OFFICE, utc(2026, 3, 6, 21), 2, utc(2026, 3, 9, 14)),
        # Fri 30 Oct 16:00 EDT: 1 h; Mon 2 Nov opens 09:00 EST = 14:00 UTC; due 10:00 EST.
        (NEW_YORK_OFFICE, utc(2026, 10, 30, 20), 2, utc(2026, 11, 2, 15)),
    ],
    ids=[
        f"{hours}-{place}-{season}"
        for hours in ("round-the-clock", "office")
        for place in ("london", "new-york")
        for season in ("spring", "autumn")
    ],
)
def test_due_times_across_the_spring_and_autumn_clock_changes(
    calendar: BusinessCalendar, start: datetime, business_hours: int, due: datetime
) -> None:
    assert add_business_time(calendar, start, business_hours * HOURS) == due


@pytest.mark.parametrize(
    ("sunday", "hours"),
    [(date(2026, 3, 29), 5), (date(2026, 10, 25), 7), (date(2026, 6, 14), 6)],
    ids=["spring-short", "autumn-long", "summer"],
)
def test_a_night_shift_across_the_change_counts_the_hours_that_really_pass(
    sunday: date, hours: int
) -> None:
    night_shift = BusinessCalendar("Europe/London", (OpeningHours(6, time(0), time(6)),))
    saturday_noon = datetime.combine(sunday - timedelta(days=1), time(12), LONDON)
    monday_noon = datetime.combine(sunday + timedelta(days=1), time(12), LONDON)

    assert business_time_between(night_shift, saturday_noon, monday_noon) == hours * HOURS


def test_business_time_between_counts_only_open_hours() -> None:
    # Fri 6 Mar 15:00 GMT to Tue 10 Mar 10:00 GMT: 2 h + 8 h (Mon) + 1 h.
    assert business_time_between(LONDON_OFFICE, utc(2026, 3, 6, 15), utc(2026, 3, 10, 10)) == (
        11 * HOURS
    )


def test_an_end_before_the_start_is_no_business_time() -> None:
    assert business_time_between(LONDON_OFFICE, utc(2026, 3, 6, 15), utc(2026, 3, 6, 14)) == (
        timedelta(0)
    )


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(LONDON_OFFICE, datetime(2026, 3, 6, 15), HOURS)


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(LONDON_OFFICE, utc(2026, 3, 6, 15), -timedelta(microseconds=1))


def test_a_bad_calendar_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        BusinessCalendar(
            "Europe/Atlantis",
            (
                OpeningHours(0, time(17), time(9)),
                OpeningHours(1, time(9), time(13)),
                OpeningHours(1, time(12), time(17)),
                OpeningHours(7, time(9), time(17)),
                OpeningHours(-1, time(9), time(17)),
                OpeningHours(4, time(9), time(9)),
            ),
            country="XX",
        )

    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("time_zone", "UNKNOWN_TIME_ZONE"),
        ("country", "UNKNOWN_COUNTRY"),
        ("weekly_hours[0]", "INVERTED_OPENING_HOURS"),
        ("weekly_hours[2]", "OVERLAPPING_OPENING_HOURS"),
        ("weekly_hours[3]", "INVALID_WEEKDAY"),
        ("weekly_hours[4]", "INVALID_WEEKDAY"),
        ("weekly_hours[5]", "INVERTED_OPENING_HOURS"),
    ]


def test_an_unknown_subdivision_and_no_hours_are_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        BusinessCalendar("Europe/London", (), country="GB", subdivision="XYZ")

    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("subdivision", "UNKNOWN_SUBDIVISION"),
        ("weekly_hours", "NO_OPENING_HOURS"),
    ]


def test_opening_hours_that_touch_do_not_overlap() -> None:
    calendar = BusinessCalendar(
        "UTC",
        (
            OpeningHours(0, time(12), time(0)),
            OpeningHours(0, time(9), time(12)),
            OpeningHours(1, time(9), time(12)),
            OpeningHours(1, time(12), time(0)),
        ),
    )

    assert business_time_between(calendar, utc(2026, 3, 2), utc(2026, 3, 4)) == 30 * HOURS


MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=120))


@given(start=MOMENTS, duration=DURATIONS)
def test_measuring_from_the_start_to_the_due_time_gives_back_the_duration(
    start: datetime, duration: timedelta
) -> None:
    due = add_business_time(ENGLAND_OFFICE, start, duration)

    assert business_time_between(ENGLAND_OFFICE, start, due) == duration


@given(start=MOMENTS, shorter=DURATIONS, longer=DURATIONS)
def test_a_longer_duration_is_never_due_earlier(
    start: datetime, shorter: timedelta, longer: timedelta
) -> None:
    shorter, longer = sorted((shorter, longer))

    assert add_business_time(US_OFFICE, start, shorter) <= add_business_time(
        US_OFFICE, start, longer
    )


@given(first=MOMENTS, second=MOMENTS, third=MOMENTS)
def test_business_time_adds_up_over_consecutive_stretches(
    first: datetime, second: datetime, third: datetime
) -> None:
    start, middle, end = sorted((first, second, third))
    calendar = ENGLAND_OFFICE

    assert business_time_between(calendar, start, middle) + business_time_between(
        calendar, middle, end
    ) == business_time_between(calendar, start, end)


def test_hours_the_spring_change_skips_count_nothing() -> None:
    """London, open 01:30-02:00 every day. On 29 March 2026 the clocks go from 01:00 GMT
    to 02:00 BST, so that day has no such half hour: nothing from 29 March 00:00 UTC to
    30 March 00:00 UTC (01:00 BST), and 10 minutes from then end on 30 March at
    01:40 BST, 00:40 UTC."""
    london = BusinessCalendar(
        "Europe/London", tuple(OpeningHours(day, time(1, 30), time(2, 0)) for day in range(7))
    )
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)

    assert business_time_between(london, start, datetime(2026, 3, 30, 0, 0, tzinfo=UTC)) == (
        timedelta(0)
    )
    assert add_business_time(london, start, timedelta(minutes=10)) == datetime(
        2026, 3, 30, 0, 40, tzinfo=UTC
    )


def test_periods_that_meet_in_the_spring_gap_do_not_count_twice() -> None:
    """New York, open 00:00-02:30 and 03:00-17:00. On 8 March 2026 the clocks go from
    02:00 EST to 03:00 EDT: open 00:00-02:00 EST (05:00-07:00 UTC, 2 h) and 03:00-17:00
    EDT (07:00-21:00 UTC, 14 h), 16 h in all, never 16 h 30 min."""
    new_york = BusinessCalendar(
        "America/New_York",
        tuple(
            hours
            for day in range(7)
            for hours in (
                OpeningHours(day, time(0, 0), time(2, 30)),
                OpeningHours(day, time(3, 0), time(17, 0)),
            )
        ),
    )

    assert business_time_between(
        new_york,
        datetime(2026, 3, 8, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    ) == timedelta(hours=16)
