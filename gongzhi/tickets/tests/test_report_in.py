"""Report-in (报到) deadlines per category, in calendar or working time; a late department is
reminded (催办) at its deadline and every report-in period after, each reminder counted, once per
period however many sweeps run; its lateness is recorded on the report-in event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import override_settings

from gongzhi.tickets.deadlines import Counting
from gongzhi.tickets.models import Category, EventAction, Summons, Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Shanghai
FRIDAY_AFTERNOON = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)  # Friday 16:30 in Shanghai

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock: Any) -> World:
    return make_world()


def _whistle(world: World, **category: Any) -> Summons:
    Category.objects.filter(pk=world.category.pk).update(**category)
    ticket = submit(world.tree)
    staff = world.actor(world.community_staff)
    handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
    whistle = handling.ticket_whistle(
        actor=staff, ticket_id=ticket.pk, department_ids=[world.department.pk], note="请到场"
    )
    return whistle.summonses.get()


def test_the_category_s_report_in_deadline_in_calendar_time(world: World) -> None:
    summons = _whistle(world, report_in_minutes=30, counting=Counting.CALENDAR)
    assert summons.due_at == NOW + dt.timedelta(minutes=30)


@override_settings(TICKET_REPORT_IN_MINUTES=45)
def test_without_its_own_the_category_takes_the_platform_s_default(world: World) -> None:
    summons = _whistle(world, report_in_minutes=None)
    assert summons.due_at == NOW + dt.timedelta(minutes=45)


def test_a_report_in_deadline_in_working_time_skips_the_weekend(world: World, clock: Any) -> None:
    clock.move_to(FRIDAY_AFTERNOON)
    summons = _whistle(world, report_in_minutes=60, counting=Counting.WORKING)
    # 30 office minutes on Friday, 30 on Monday morning.
    assert summons.due_at == dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC)  # Monday 09:30
    clock.move_to(dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC))  # Sunday evening: not late yet
    assert tickets_sweep().departments_reminded == 0


def test_a_late_department_is_reminded_each_period_until_it_reports_in(world: World, clock: Any) -> None:
    summons = _whistle(world, report_in_minutes=30, counting=Counting.CALENDAR)
    ticket_reminders = Ticket.objects.get(pk=summons.whistle.ticket_id).reminders

    clock.shift(dt.timedelta(minutes=29))
    assert tickets_sweep().departments_reminded == 0
    clock.shift(dt.timedelta(minutes=1))  # the deadline
    assert tickets_sweep().departments_reminded == 1
    assert tickets_sweep().departments_reminded == 0  # a second sweep at the same moment
    clock.shift(dt.timedelta(minutes=29))
    assert tickets_sweep().departments_reminded == 0
    clock.shift(dt.timedelta(minutes=1))  # one period later
    assert tickets_sweep().departments_reminded == 1

    summons.refresh_from_db()
    assert (summons.reminders, summons.reminded_at, summons.remind_at) == (
        2,
        NOW + dt.timedelta(minutes=60),
        NOW + dt.timedelta(minutes=90),
    )
    ticket = Ticket.objects.get(pk=summons.whistle.ticket_id)
    assert ticket.reminders == ticket_reminders + 2
    reminded = ticket.events.filter(action=EventAction.REMINDED).order_by("pk")
    assert [e.data for e in reminded] == [
        {"summons": summons.pk, "department": world.department.pk, "overdue": "report_in", "reminders": n}
        for n in (1, 2)
    ]

    clock.shift(dt.timedelta(minutes=15))
    handling.summons_report_in(actor=world.actor(world.handler), summons_id=summons.pk)
    reported = ticket.events.get(action=EventAction.REPORTED_IN)
    # The insight roll-ups read `late`; the minutes and the reminders tell how late.
    assert reported.data == {
        "summons": summons.pk,
        "whistle": summons.whistle_id,
        "department": world.department.pk,
        "late": True,
        "late_minutes": 45,
        "reminders": 2,
    }
    clock.shift(dt.timedelta(hours=5))
    assert tickets_sweep().departments_reminded == 0  # reported in: no more reminders


def test_after_an_outage_a_late_department_is_reminded_once_not_once_per_missed_period(
    world: World, clock: Any
) -> None:
    summons = _whistle(world, report_in_minutes=30, counting=Counting.CALENDAR)
    clock.shift(dt.timedelta(hours=10))  # twenty periods with the worker down
    assert tickets_sweep().departments_reminded == 1
    assert tickets_sweep().departments_reminded == 0
    summons.refresh_from_db()
    assert (summons.reminders, summons.remind_at) == (1, NOW + dt.timedelta(hours=10, minutes=30))


def test_a_department_on_time_is_not_late_and_never_reminded(world: World, clock: Any) -> None:
    summons = _whistle(world, report_in_minutes=30, counting=Counting.CALENDAR)
    clock.shift(dt.timedelta(minutes=30))  # at the deadline itself: on time
    handling.summons_report_in(actor=world.actor(world.handler), summons_id=summons.pk)
    clock.shift(dt.timedelta(minutes=1))
    assert tickets_sweep().departments_reminded == 0
    reported = Ticket.objects.get(pk=summons.whistle.ticket_id).events.get(action=EventAction.REPORTED_IN)
    assert (reported.data["late"], reported.data["late_minutes"], reported.data["reminders"]) == (False, 0, 0)


@override_settings(TICKET_REPORT_IN_MINUTES=120)
def test_the_migration_schedules_the_next_reminder_of_summonses_written_before(world: World) -> None:
    """The data migration's function, run on rows as they were before (no count, no next reminder)."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("gongzhi.tickets.migrations.0007_backfill_summons_reminders")
    waiting, reminded, reported = (_whistle(world) for _ in range(3))
    Summons.objects.filter(pk=reminded.pk).update(reminded_at=NOW + dt.timedelta(hours=2))
    Summons.objects.filter(pk=reported.pk).update(reported_at=NOW, reminded_at=NOW - dt.timedelta(hours=1))
    Summons.objects.update(reminders=0, remind_at=None)

    backfill.schedule_reminders(apps, None)
    backfill.schedule_reminders(apps, None)  # rerunnable: a second run changes nothing

    assert dict(Summons.objects.values_list("pk", "reminders")) == {
        waiting.pk: 0,
        reminded.pk: 1,
        reported.pk: 1,
    }
    assert dict(Summons.objects.values_list("pk", "remind_at")) == {
        waiting.pk: waiting.due_at,  # never reminded: at its deadline
        reminded.pk: NOW + dt.timedelta(hours=4),  # one period after its reminder
        reported.pk: None,  # reported in: no more reminders
    }
