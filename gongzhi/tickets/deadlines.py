"""Deadline arithmetic: calendar time, or working time on the official calendar.

Working time counts only the office hours (WORK_START–WORK_END, Asia/Shanghai) of working days:
weekdays that are not public holidays, plus the make-up working days (调休) on weekends, as the
State Council publishes them each year (the `chinese_calendar` package). For years the package
does not know yet, weekdays count as working days.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db import models
from django.utils.translation import gettext_lazy as _

LOCAL = ZoneInfo("Asia/Shanghai")
WORK_START = dt.time(9, 0)
WORK_END = dt.time(17, 0)
WORKDAY_MINUTES = 8 * 60


class Counting(models.TextChoices):
    CALENDAR = "calendar", _("Calendar time")  # 自然时
    WORKING = "working", _("Working hours")  # 工作时 (法定节假日与调休)


@functools.lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not cover yet
        return day.weekday() < 5


def add_working_minutes(start: dt.datetime, minutes: int) -> dt.datetime:
    """The moment `minutes` of office time after `start` (aware), returned in UTC."""
    if minutes < 0:
        raise ValueError("minutes must not be negative")
    local = start.astimezone(LOCAL)
    remaining = minutes
    day = local.date()
    cursor = local
    while True:
        if is_working_day(day):
            opens = dt.datetime.combine(day, WORK_START, tzinfo=LOCAL)
            closes = dt.datetime.combine(day, WORK_END, tzinfo=LOCAL)
            begin = max(cursor, opens)
            if begin < closes:
                available = int((closes - begin).total_seconds() // 60)
                if remaining <= available:
                    return (begin + dt.timedelta(minutes=remaining)).astimezone(dt.UTC)
                remaining -= available
            elif remaining == 0 and begin == closes:
                return begin.astimezone(dt.UTC)
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0, 0), tzinfo=LOCAL)


def add_duration(start: dt.datetime, minutes: int, counting: str) -> dt.datetime:
    if counting == Counting.WORKING:
        return add_working_minutes(start, minutes)
    return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)


def working_minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    """Office minutes in [start, end); used by reports to explain a deadline."""
    if end <= start:
        return 0
    total = 0
    local_start, local_end = start.astimezone(LOCAL), end.astimezone(LOCAL)
    day = local_start.date()
    while day <= local_end.date():
        if is_working_day(day):
            opens = max(dt.datetime.combine(day, WORK_START, tzinfo=LOCAL), local_start)
            closes = min(dt.datetime.combine(day, WORK_END, tzinfo=LOCAL), local_end)
            if closes > opens:
                total += int((closes - opens).total_seconds() // 60)
        day += dt.timedelta(days=1)
    return total
