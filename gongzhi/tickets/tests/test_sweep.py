"""The sweep with a frozen clock: escalation, reminders, closing unrated tickets; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gongzhi.tickets.models import EventAction, Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import SweepResult, tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.workflow import Level, TicketState

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock) -> World:
    return make_world()


def test_nothing_happens_before_a_deadline(world: World, clock) -> None:
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(minutes=59))
    assert tickets_sweep() == SweepResult()
    ticket.refresh_from_db()
    assert ticket.level == Level.GRID and ticket.version == 1


def test_an_overdue_response_escalates_to_the_community_once(world: World, clock) -> None:
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(minutes=60))
    assert tickets_sweep().escalated == 1
    assert tickets_sweep() == SweepResult()  # a second sweep at the same moment changes nothing
    ticket.refresh_from_db()
    assert (ticket.level, ticket.owner_node, ticket.reminders) == (Level.COMMUNITY, world.tree.community, 1)
    assert ticket.response_due_at == NOW + dt.timedelta(minutes=120)
    event = ticket.events.get(action=EventAction.ESCALATED)
    assert (event.from_level, event.to_level, event.data["overdue"]) == (
        Level.GRID,
        Level.COMMUNITY,
        "response",
    )


def test_after_a_day_of_outage_a_ticket_escalates_once_not_once_per_missed_hour(world: World, clock) -> None:
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(days=1))
    result = tickets_sweep()
    assert result.escalated == 1
    assert tickets_sweep() == SweepResult()
    ticket.refresh_from_db()
    assert ticket.level == Level.COMMUNITY
    assert ticket.events.filter(action=EventAction.ESCALATED).count() == 1


def test_escalation_stops_at_the_subdistrict_and_then_counts_reminders(world: World, clock) -> None:
    ticket = submit(world.tree)
    for _ in range(4):
        clock.shift(dt.timedelta(minutes=61))
        tickets_sweep()
    ticket.refresh_from_db()
    assert (ticket.level, ticket.owner_node) == (Level.SUBDISTRICT, world.tree.subdistrict)
    assert ticket.reminders == 4
    assert ticket.events.filter(action=EventAction.ESCALATED).count() == 2
    assert ticket.events.filter(action=EventAction.REMINDED).count() == 2


def test_an_overdue_resolution_escalates_but_keeps_the_state(world: World, clock) -> None:
    ticket = submit(world.tree)
    handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    clock.shift(dt.timedelta(hours=24))
    assert tickets_sweep().escalated == 1
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level) == (TicketState.ACCEPTED, Level.COMMUNITY)
    assert ticket.resolution_due_at == NOW + dt.timedelta(hours=48)


def test_a_sweep_that_lost_the_race_changes_nothing(world: World, clock) -> None:
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(hours=2))
    # A worker accepts between the sweep's read and its write: the compare-and-set fails quietly.
    from gongzhi.tickets.services.sweep import _escalate_chunk, _Pass

    stale_version = ticket.version
    handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    run = _Pass(NOW + dt.timedelta(hours=2))
    assert _escalate_chunk({ticket.pk: stale_version}, overdue="response", run=run) == (0, 0)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level) == (TicketState.ACCEPTED, Level.GRID)


def test_unrated_tickets_close_when_the_rating_window_ends(world: World, clock) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="已处理")
    clock.shift(dt.timedelta(days=7) - dt.timedelta(seconds=1))
    assert tickets_sweep().closed == 0
    clock.shift(dt.timedelta(seconds=1))
    assert tickets_sweep().closed == 1
    assert tickets_sweep().closed == 0
    ticket.refresh_from_db()
    assert ticket.state == TicketState.CLOSED and ticket.rating == ""
    assert ticket.events.get(action=EventAction.CLOSED).data == {"unrated": True}


def test_many_overdue_tickets_each_escalate_once(world: World, clock) -> None:
    tickets = [submit(world.tree, submit_key=f"k{i}") for i in range(25)]
    clock.shift(dt.timedelta(hours=1))
    assert tickets_sweep(batch=10, budget_seconds=0).escalated == 10  # one pass: one batch
    assert tickets_sweep(batch=100).escalated == 15
    levels = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("level", flat=True)
    assert set(levels) == {Level.COMMUNITY}


def test_a_backlog_clears_in_one_run_of_several_passes(world: World, clock) -> None:
    """After an outage: passes of a batch each, in one run, until nothing is due (within the budget)."""
    tickets = [submit(world.tree, submit_key=f"k{i}") for i in range(25)]
    staff = world.actor(world.community_staff)
    resolved = tickets[:12]
    for ticket in resolved:
        handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
        handling.ticket_resolve(actor=staff, ticket_id=ticket.pk, note="已处理")
    clock.shift(dt.timedelta(days=8))

    result = tickets_sweep(batch=5)

    assert (result.escalated, result.closed) == (13, 12)
    assert tickets_sweep(batch=5) == SweepResult()


def test_the_periodic_task_wraps_the_sweep(world: World, clock) -> None:
    from huey.contrib.djhuey import HUEY

    from gongzhi.tickets.tasks import sweep_tickets

    submit(world.tree)
    clock.shift(dt.timedelta(hours=1))
    assert sweep_tickets.task_class in HUEY._registry._periodic_tasks
    assert sweep_tickets.call_local()["escalated"] == 1


def _outbox(event_pk: int) -> list[tuple[object, ...]]:
    from gongzhi.notifications.models import Notification

    rows = Notification.objects.filter(dedupe_key__startswith=f"ticket-event:{event_pk}:").order_by(
        "dedupe_key"
    )
    return [
        (n.dedupe_key, n.channel, n.user_id, n.webhook_id, n.event_type, n.subject, n.body, n.url, n.payload)
        for n in rows
    ]


def test_an_escalation_queues_what_notify_staff_would_for_its_event(world: World, clock) -> None:
    """The sweep writes the outbox in bulk: the same rows, keys and payloads as `notify_staff`."""
    from django.db import transaction

    from gongzhi.accounts.models import Role
    from gongzhi.core.testing import make_user
    from gongzhi.notifications.models import Notification, WebhookEndpoint
    from gongzhi.tickets.services.notices import notify_staff

    chief = make_user("chief", role=Role.GRID_CHIEF, node=world.tree.grid_a)
    secretary = make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    everything = WebhookEndpoint.objects.create(name="all", url="https://example.org/all", secret="s")
    WebhookEndpoint.objects.create(
        name="deaf", url="https://example.org/deaf", secret="s", events=["ticket.resolved"]
    )
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(hours=1))
    assert tickets_sweep().escalated == 1
    ticket.refresh_from_db()
    event = ticket.events.get(action=EventAction.ESCALATED)
    queued = _outbox(event.pk)
    # The community's handlers and supervisor, and the grid's supervisor it left; one webhook.
    assert {row[2] for row in queued} == {world.community_staff.pk, secretary.pk, chief.pk, None}
    assert [row[3] for row in queued if row[1] == "webhook"] == [everything.pk]
    assert ticket.number in queued[0][5]
    with transaction.atomic():
        Notification.objects.filter(dedupe_key__startswith=f"ticket-event:{event.pk}:").delete()
        notify_staff(
            ticket,
            event,
            users=[world.community_staff, secretary, chief],
            subject=queued[0][5],
        )
        assert _outbox(event.pk) == queued
        transaction.set_rollback(True)


def test_a_ticket_whistling_two_late_departments_counts_two_reminders(world: World, clock) -> None:
    from gongzhi.tickets.tests.factories import make_department

    other = make_department(name="住建委", code="dept-zj")
    ticket = submit(world.tree)
    staff = world.actor(world.community_staff)
    handling.ticket_accept(actor=staff, ticket_id=ticket.pk)
    handling.ticket_whistle(
        actor=staff, ticket_id=ticket.pk, department_ids=[world.department.pk, other.pk], note="请到场"
    )
    before = Ticket.objects.get(pk=ticket.pk).reminders
    clock.shift(dt.timedelta(minutes=121))
    assert tickets_sweep().departments_reminded == 2
    assert tickets_sweep().departments_reminded == 0
    ticket.refresh_from_db()
    assert ticket.reminders == before + 2
    reminders = ticket.events.filter(action=EventAction.REMINDED)
    assert sorted(e.data["department"] for e in reminders) == sorted([world.department.pk, other.pk])


def test_a_ticket_accepted_after_escalation_was_not_answered_on_time(world: World, clock) -> None:
    ticket = submit(world.tree)
    clock.shift(dt.timedelta(minutes=61))
    tickets_sweep()  # escalated to the community, with a fresh deadline
    clock.shift(dt.timedelta(minutes=5))
    handling.ticket_accept(actor=world.actor(world.community_staff), ticket_id=ticket.pk)
    accepted = ticket.events.get(action=EventAction.ACCEPTED)
    assert accepted.data["on_time"] is False


@pytest.mark.parametrize(
    ("index", "field"),
    [
        ("ticket_response_due_open", "response_due_at"),
        ("ticket_resolution_due_open", "resolution_due_at"),
        ("ticket_rating_due", "rating_due_at"),
    ],
)
def test_the_sweep_lists_due_tickets_through_its_partial_indexes(index: str, field: str) -> None:
    """At 1M open tickets a listing that scans the table costs more than the rest of an idle pass."""
    from django.db import connection

    from gongzhi.tickets.services.sweep import due_listing

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL matches partial indexes with the values bound")
    plan = due_listing(index, field, NOW).values_list("pk", "version")[:1000].explain()
    assert f"USING INDEX {index}" in plan


def test_the_sweep_s_queries_do_not_grow_with_the_tickets_due(world: World, clock) -> None:
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from gongzhi.notifications.models import WebhookEndpoint

    WebhookEndpoint.objects.create(name="all", url="https://example.org/all", secret="s")
    counts = []
    for many in (2, 20):
        with transaction.atomic():
            clock.move_to(NOW)
            for i in range(many):
                submit(world.tree, submit_key=f"{many}-{i}")
            clock.shift(dt.timedelta(hours=1))
            with CaptureQueriesContext(connection) as queries:
                assert tickets_sweep().escalated == many
            counts.append(len(queries))
            transaction.set_rollback(True)
    assert counts[1] <= counts[0]  # fewer when routing's own caches are warm from the first round
