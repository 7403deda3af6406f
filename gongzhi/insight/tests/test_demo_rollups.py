"""The demo's year of tickets (events written in bulk, not through the services) rolls up to the
same figures as a brute-force recount, and the rates say something (neither 0 nor 1)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from gongzhi.core.demo.build import DemoSummary, demo_build
from gongzhi.core.demo.tickets import ensure_default_categories
from gongzhi.core.testing import superactor
from gongzhi.insight.selectors import rates_for
from gongzhi.insight.services import rollups_update
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.models import TicketEvent

SCALE = 0.02  # about 2,000 tickets over the year
BUILT_AT = dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(DEBUG=False, DEMO_MODE=True),
        time_machine.travel(BUILT_AT, tick=False),
    ):
        ensure_default_categories()
        yield demo_build(scale=SCALE)
        transaction.set_rollback(True)


def test_the_demo_rolls_up_like_a_recount(demo, db) -> None:
    with time_machine.travel(BUILT_AT + dt.timedelta(minutes=5), tick=False):
        started = time.perf_counter()
        result = rollups_update(batch=500)
        seconds = time.perf_counter() - started
    assert result.events == TicketEvent.objects.count() > 1000
    print(f"\nroll-ups: {result.events} events in {seconds:.2f} s = {result.events / seconds:.0f} events/s")
    assert stored() == recount()
    district = Node.objects.filter(kind=NodeKind.DISTRICT).first()
    assert district is not None
    figures = rates_for(
        actor=superactor(), node=district, start=dt.date(2025, 1, 1), end=dt.date(2026, 3, 10)
    )
    values = {rate.definition.id: rate.value for rate in figures.rates}
    assert figures.counts.received > 500
    for rate_id in ("response", "resolution", "satisfaction"):
        assert values[rate_id] is not None and 0 < values[rate_id] < 1, (rate_id, values)
