"""The one clock. Read it once per operation; tests freeze it with time_machine."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()


def localtime(value: dt.datetime) -> dt.datetime:
    """An aware datetime in the interface's time zone (Asia/Shanghai)."""
    return timezone.localtime(value)
