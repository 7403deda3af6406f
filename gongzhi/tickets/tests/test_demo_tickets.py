"""The demo's year of tickets: histories the state machine allows, seasons, and work left to do."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings

from gongzhi.accounts.models import User
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.demo.build import DemoSummary, demo_build
from gongzhi.core.demo.tickets import ensure_default_categories
from gongzhi.territory.models import Organization
from gongzhi.tickets.deadlines import LOCAL
from gongzhi.tickets.models import Category, Rating, Summons, Ticket, TicketEvent, Whistle
from gongzhi.tickets.services.handling import ticket_accept
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.workflow import OPEN_STATES, TRANSITIONS, TicketState

SCALE = 0.05  # about 5,000 tickets over the year
# A fixed build time, so the year (and its seasons) is always the same one.
BUILT_AT = dt.datetime(2026, 3, 10, 2, 30, tzinfo=dt.UTC)  # 10:30 in 兖州, a Tuesday


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoSummary]:
    """One reduced demo for the module, rolled back afterwards."""
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(DEBUG=False, DEMO_MODE=True),
        time_machine.travel(BUILT_AT, tick=False),
    ):
        ensure_default_categories()  # a flushed database (transactional tests) has none
        yield demo_build(scale=SCALE)
        transaction.set_rollback(True)


def _histories() -> dict[int, list[tuple[str, str, str, int | None, int | None, dt.datetime]]]:
    events = TicketEvent.objects.order_by("ticket_id", "at", "pk").values_list(
        "ticket_id", "action", "from_state", "to_state", "from_level", "to_level", "at"
    )
    histories: dict[int, list[Any]] = defaultdict(list)
    for ticket_id, *event in events:
        histories[ticket_id].append(tuple(event))
    return histories


def test_it_writes_about_the_asked_number_of_tickets(demo, db):
    assert 4_700 <= demo.tickets <= 5_400
    assert Ticket.objects.count() == demo.tickets


def test_every_history_replays_through_the_transition_table_to_the_tickets_state(demo, db):
    histories = _histories()
    tickets = Ticket.objects.values_list("pk", "state", "level", "submitted_at")
    assert len(histories) == len(tickets)
    for pk, state, level, submitted_at in tickets:
        history = histories[pk]
        action, from_state, to_state, _, to_level, at = history[0]
        assert (action, from_state, to_state, at) == ("submitted", "", "submitted", submitted_at), pk
        current, current_level = TicketState.SUBMITTED, to_level
        for action, from_state, to_state, from_level, to_level, at in history[1:]:
            assert submitted_at <= at <= BUILT_AT, (pk, action)
            if to_state:
                assert from_state == current, (pk, action, from_state, current)
                assert to_state in TRANSITIONS[TicketState(current)], (pk, current, to_state)
                current = to_state
            if to_level is not None:
                assert from_level == current_level, (pk, action)
                current_level = to_level
        assert current == state, pk
        assert current_level == level, pk


def test_the_fields_agree_with_the_state(demo, db):
    for ticket in Ticket.objects.all():
        final = not TRANSITIONS[TicketState(ticket.state)]
        assert (ticket.closed_at is not None) == final, ticket.number
        assert (ticket.state == TicketState.RESOLVED) == (ticket.rating_due_at is not None), ticket.number
        assert (ticket.merged_into_id is not None) == (ticket.state == TicketState.MERGED)
        assert (ticket.rejection_reason != "") == (ticket.state == TicketState.REJECTED)
        if ticket.state not in {TicketState.SUBMITTED, TicketState.REJECTED, TicketState.MERGED}:
            assert ticket.responded_at is not None, ticket.number
        assert ticket.owner_node.kind == {1: "grid", 2: "community", 3: "subdistrict"}[ticket.level]


def test_numbers_are_unique_and_dated_in_local_time(demo, db):
    rows = list(Ticket.objects.values_list("number", "follow_token", "submitted_at"))
    assert len({number for number, _, _ in rows}) == len(rows)
    assert len({token for _, token, _ in rows}) == len(rows)
    for number, _, submitted_at in rows:
        assert number[:8] == f"{submitted_at.astimezone(LOCAL):%Y%m%d}"


def test_counts_by_month_show_the_seasons(demo, db):
    by_month: dict[str, Counter[int]] = defaultdict(Counter)
    for code, submitted_at in Ticket.objects.values_list("category__code", "submitted_at"):
        by_month[code][submitted_at.astimezone(LOCAL).month] += 1
    heating, mosquitoes, parking = by_month["heating-cold"], by_month["mosquito-control"], by_month["parking"]
    assert sum(heating[m] for m in (6, 7, 8)) == 0
    assert heating[12] + heating[1] > 60
    assert mosquitoes[7] + mosquitoes[8] > 5 * (mosquitoes[12] + mosquitoes[1] + 1)
    leaks = by_month["burst-pipe"]
    assert leaks[7] > leaks[4]
    # Parking all year: every month has its share, none more than twice another's.
    assert min(parking.values()) * 2.2 > max(parking.values())


def test_channels_ratings_and_outcomes_look_like_the_reports(demo, db):
    channels = Counter(Ticket.objects.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "doorplate"
    ratings = Counter(Ticket.objects.exclude(rating="").values_list("rating", flat=True))
    satisfied = ratings[Rating.SATISFIED] + ratings[Rating.BASICALLY_SATISFIED]
    assert satisfied / sum(ratings.values()) >= 0.9
    states = Counter(Ticket.objects.values_list("state", flat=True))
    assert states[TicketState.REJECTED] > 0 and states[TicketState.MERGED] > 0
    open_count = sum(states[state] for state in OPEN_STATES)
    assert 15 <= open_count <= 300  # a few hundred at full size
    assert Ticket.objects.filter(reopen_count__gt=0).exists()
    assert TicketEvent.objects.filter(action="escalated").exists()
    assert Whistle.objects.filter(confirmed_at__isnull=False).exists()
    assert Summons.objects.filter(reported_at__isnull=False).exists()
    overdue = Ticket.objects.filter(state__in=OPEN_STATES, reminders__gt=0)
    assert overdue.exists()


def test_categories_answer_to_the_demo_departments(demo, db):
    heating = Category.objects.get(code="heating-cold")
    assert [d.name for d in heating.departments.all()] == ["兖州区热力公司"]
    for summons in Summons.objects.select_related("whistle__ticket__category")[:200]:
        assert summons.department in summons.whistle.ticket.category.departments.all()


def test_a_sweep_right_after_the_build_finds_nothing_left_undone(demo, db):
    """The demo already holds what the sweep would have done up to the build's moment."""
    with transaction.atomic():
        result = tickets_sweep(now=BUILT_AT)
        transaction.set_rollback(True)
    assert (result.escalated, result.reminded, result.closed, result.departments_reminded) == (0, 0, 0, 0)


def test_the_demo_grid_worker_has_fresh_tickets_to_act_on(demo, db):
    worker = User.objects.get(username="demo-grid-worker")
    actor = resolve_actor(worker)
    mine = Ticket.objects.visible_to(actor).filter(
        state__in=OPEN_STATES, level=1, submitted_at__gte=BUILT_AT - dt.timedelta(days=1)
    )
    assert mine.filter(state=TicketState.SUBMITTED).count() >= 3
    assert mine.filter(assignee=worker).exists()
    water = Organization.objects.get(name="兖州区供水公司")
    assert Summons.objects.filter(department=water, reported_at__isnull=True).exists()
    resident = User.objects.get(username="demo-resident")
    assert Ticket.objects.filter(reporter_user=resident, state=TicketState.RESOLVED).exists()
    # The services accept the demo's rows as they are.
    with transaction.atomic(), time_machine.travel(BUILT_AT + dt.timedelta(minutes=5), tick=False):
        ticket = ticket_accept(actor=actor, ticket_id=mine.filter(state=TicketState.SUBMITTED)[0].pk)
        assert ticket.state == TicketState.ACCEPTED
        transaction.set_rollback(True)


def test_accept_and_resolve_events_carry_the_deadline_in_force(demo, db):
    from gongzhi.tickets.models import EventAction, TicketEvent

    events = TicketEvent.objects.filter(action__in=[EventAction.ACCEPTED, EventAction.RESOLVED])
    flags = [data.get("on_time") for data in events.values_list("data", flat=True)]
    assert flags and None not in flags
    assert 0 < flags.count(False) < len(flags)  # most on time, some late: the rates have something to say
