"""Business time: the hours a calendar is open, and arithmetic that counts only those.

A `BusinessCalendar` is a time zone, weekly opening hours (several intervals a day, or none)
and closed dates: the public holidays of a country (and subdivision) from the `holidays`
package plus custom dates. Opening hours are wall-clock hours in the calendar's zone, so an
hour of business time is an hour that really passes while the calendar is open: 24/7 across
the spring change counts 23 hours on that day, across the autumn change 25. Every function
takes timezone-aware datetimes and returns them in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from services.crm.domain.errors import Violations

MIDNIGHT = time(0)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class OpeningHours:
    """One opening interval on one weekday (0 is Monday); `closes` at 00:00 means midnight."""

    weekday: int
    opens: time
    closes: time

    def closes_on(self, day: date) -> date:
        return day + _DAY if self.closes == MIDNIGHT else day

    def span(self) -> tuple[timedelta, timedelta]:
        """Opening and closing as time since midnight, on the wall clock."""
        closes = _DAY if self.closes == MIDNIGHT else _since_midnight(self.closes)
        return _since_midnight(self.opens), closes


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team works; constructing one checks it and reports every problem at once."""

    time_zone: str
    weekly_hours: tuple[OpeningHours, ...]
    country: str = ""
    subdivision: str = ""
    closed_dates: frozenset[date] = frozenset()
    _by_weekday: tuple[tuple[OpeningHours, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check(self)
        ordered = sorted(self.weekly_hours, key=lambda hours: hours.opens)
        by_weekday = tuple(tuple(h for h in ordered if h.weekday == day) for day in range(7))
        object.__setattr__(self, "_by_weekday", by_weekday)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_closed(self, day: date) -> bool:
        """Closed all day: a custom closed date or a public holiday."""
        if day in self.closed_dates:
            return True
        return bool(self.country) and day in _public_holidays(
            self.country, self.subdivision, day.year
        )

    def hours_on(self, day: date) -> tuple[OpeningHours, ...]:
        return () if self.is_closed(day) else self._by_weekday[day.weekday()]


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The moment `duration` of business time after `start`; a start outside hours counts
    from the next opening, and a duration that ends exactly at a closing ends there."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    if not duration:
        return _utc(start)
    remaining = duration
    for opens, closes in open_periods(calendar, start):
        if closes - opens >= remaining:
            return opens + remaining
        remaining -= closes - opens
    raise AssertionError("open_periods never ends")


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time that passes from `start` to `end`; zero when `end` is not later."""
    total = timedelta(0)
    end = _utc(end)
    for opens, closes in open_periods(calendar, start):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def open_periods(
    calendar: BusinessCalendar, since: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open periods in UTC from `since` on, the first one cut at `since`."""
    since = _utc(since)
    zone = calendar.zone
    day = since.astimezone(zone).date()
    # Hours the spring change skips shrink, so two periods can meet but never overlap.
    previous_close = since
    while True:
        for hours in calendar.hours_on(day):
            opens = max(_at(day, hours.opens, zone), previous_close)
            closes = _at(hours.closes_on(day), hours.closes, zone)
            if closes > opens:
                yield opens, closes
                previous_close = closes
        day += _DAY


def _at(day: date, wall_clock: time, zone: ZoneInfo) -> datetime:
    """The instant the wall clock shows wall_clock on day; for a time the spring change
    skips, the instant of the change (the first one showing a later time)."""
    local = datetime.combine(day, wall_clock, tzinfo=zone)
    late = local.astimezone(UTC)
    if late.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return late
    early = local.replace(fold=1).astimezone(UTC)
    after = late.astimezone(zone).utcoffset()
    while late - early > _SECOND:
        middle = early + (late - early) / 2
        if middle.astimezone(zone).utcoffset() == after:
            late = middle
        else:
            early = middle
    # Changes happen on a whole second.
    whole = late.replace(microsecond=0)
    return whole if whole.astimezone(zone).utcoffset() == after else late


def _since_midnight(wall_clock: time) -> timedelta:
    return timedelta(hours=wall_clock.hour, minutes=wall_clock.minute, seconds=wall_clock.second)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(UTC)


@cache
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


def _check(calendar: BusinessCalendar) -> None:
    problems = Violations()
    _check_zone(problems, calendar.time_zone)
    _check_region(problems, calendar.country, calendar.subdivision)
    _check_hours(problems, calendar.weekly_hours)
    problems.raise_if_any()


def _check_zone(problems: Violations, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add("time_zone", "UNKNOWN_TIME_ZONE", f"{name!r} is not an IANA time zone")


def _check_region(problems: Violations, country: str, subdivision: str) -> None:
    supported = holidays.list_supported_countries()
    if country and country not in supported:
        problems.add("country", "UNKNOWN_COUNTRY", f"no public holidays known for {country!r}")
    elif subdivision and subdivision not in supported.get(country, ()):
        problems.add(
            "subdivision",
            "UNKNOWN_SUBDIVISION",
            f"{subdivision!r} is not a subdivision of {country!r}",
        )


def _check_hours(problems: Violations, weekly_hours: tuple[OpeningHours, ...]) -> None:
    problems.check(bool(weekly_hours), "weekly_hours", "NO_OPENING_HOURS", "open at least once")
    for index, hours in enumerate(weekly_hours):
        where = f"weekly_hours[{index}]"
        problems.check(
            0 <= hours.weekday <= 6, where, "INVALID_WEEKDAY", "weekday is 0 (Mon) to 6 (Sun)"
        )
        problems.check(
            hours.span()[0] < hours.span()[1],
            where,
            "INVERTED_OPENING_HOURS",
            "closes after it opens, on the same day (00:00 closes at midnight)",
        )
        for earlier, other in enumerate(weekly_hours[:index]):
            problems.check(
                not _overlap(hours, other),
                where,
                "OVERLAPPING_OPENING_HOURS",
                f"overlaps weekly_hours[{earlier}]",
            )


def _overlap(one: OpeningHours, other: OpeningHours) -> bool:
    (one_opens, one_closes), (other_opens, other_closes) = one.span(), other.span()
    return one.weekday == other.weekday and one_opens < other_closes and other_opens < one_closes
