"""Invariants of the form helpers behind the pages (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.meetings.forms import FiguresForm, split_numbers

numbers = st.lists(st.from_regex(r"\A20\d{11}\Z", fullmatch=True), max_size=8)
separators = st.sampled_from([" ", ",", "，", "、", " , ", "\n", ";"])


@given(numbers, separators)
def test_split_numbers_keeps_each_number_once_in_order(values: list[str], separator: str) -> None:
    parsed = split_numbers(separator.join(values + values[:2]))
    assert parsed == list(dict.fromkeys(values))


@given(st.integers(2000, 2099), st.integers(1, 12))
def test_a_month_of_figures_is_exactly_that_month_in_local_time(year: int, month: int) -> None:
    form = FiguresForm({"month": f"{year}-{month:02d}"})
    start, end, first = form.period(dt.date(2026, 11, 27))
    assert first == dt.date(year, month, 1)
    assert start.utcoffset() == dt.timedelta(hours=8) and start.hour == 0 and start.day == 1
    assert (start.month, start.year) == (month, year)
    assert end.day == 1 and (end - start).days in (28, 29, 30, 31)
