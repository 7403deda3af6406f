"""Deadline arithmetic: calendar time and working hours on the official calendar."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.tickets.deadlines import (
    LOCAL,
    Counting,
    add_duration,
    add_working_minutes,
    working_minutes_between,
)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LOCAL)


def test_calendar_counting_is_plain_time() -> None:
    start = local(2026, 11, 27, 23, 50)
    assert add_duration(start, 15, Counting.CALENDAR) == local(2026, 11, 28, 0, 5)


def test_working_hours_skip_the_weekend() -> None:
    # Friday 16:30 + 60 working minutes: 30 on Friday, 30 on Monday morning.
    assert add_working_minutes(local(2026, 11, 27, 16, 30), 60) == local(2026, 11, 30, 9, 30)


def test_working_hours_skip_national_day_holidays() -> None:
    # Wednesday 30 September 16:00 + 3 h: 1 h that day, then 1–7 October off, 2 h on Thursday 8 October.
    assert add_working_minutes(local(2026, 9, 30, 16, 0), 180) == local(2026, 10, 8, 11, 0)


def test_make_up_working_day_on_a_saturday_counts() -> None:
    # Saturday 10 October 2026 is a make-up working day (调休).
    assert add_working_minutes(local(2026, 10, 9, 16, 0), 120) == local(2026, 10, 10, 10, 0)


def test_a_start_before_office_hours_counts_from_opening() -> None:
    assert add_working_minutes(local(2026, 11, 26, 7, 0), 30) == local(2026, 11, 26, 9, 30)


def test_seven_working_days() -> None:
    start = local(2026, 11, 23, 9, 0)  # a Monday
    assert add_duration(start, 7 * 8 * 60, Counting.WORKING) == local(2026, 12, 1, 17, 0)


def test_years_beyond_the_official_calendar_fall_back_to_weekdays() -> None:
    assert add_working_minutes(local(2031, 3, 7, 16, 0), 120) == local(2031, 3, 10, 10, 0)


@given(
    start=st.datetimes(
        min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 20), timezones=st.just(LOCAL)
    ).map(lambda moment: moment.replace(second=0, microsecond=0)),
    minutes=st.integers(min_value=0, max_value=5000),
    more=st.integers(min_value=0, max_value=600),
)
def test_working_deadlines_are_monotonic_and_count_exactly(
    start: dt.datetime, minutes: int, more: int
) -> None:
    first = add_working_minutes(start, minutes)
    assert first >= start
    assert add_working_minutes(start, minutes + more) >= first
    # The office minutes between the start and the deadline are exactly those asked for.
    assert working_minutes_between(start, first) == minutes
