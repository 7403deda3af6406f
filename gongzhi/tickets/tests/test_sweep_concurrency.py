"""Two sweeps at the same moment, and a sweep racing a worker's accepts, on real connections."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection

from gongzhi.core.errors import ApplicationError
from gongzhi.core.testing import run_together
from gongzhi.notifications.models import Notification
from gongzhi.tickets.models import EventAction, Ticket, TicketEvent
from gongzhi.tickets.services import handling, sweep
from gongzhi.tickets.services.sweep import SweepResult, tickets_sweep
from gongzhi.tickets.tests.factories import World, make_world, submit
from gongzhi.tickets.workflow import Level, TicketState

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers"
    ),
]

TICKETS = 40


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Many short transactions, so the two sides interleave instead of one finishing first.
    monkeypatch.setattr(sweep, "CHUNK", 3)


def _overdue_world() -> tuple[World, list[Ticket], dt.datetime]:
    world = make_world()
    tickets = [submit(world.tree, submit_key=f"k{i}") for i in range(TICKETS)]
    return world, tickets, max(t.response_due_at for t in tickets) + dt.timedelta(minutes=1)


@pytest.mark.parametrize("round_", range(3))
def test_two_sweeps_at_once_escalate_each_ticket_exactly_once(round_: int, small_chunks: None) -> None:
    world, tickets, now = _overdue_world()
    results: list[SweepResult] = []
    run_together(*[lambda: results.append(tickets_sweep(now=now)) for _ in range(2)])

    assert sum(r.escalated for r in results) == TICKETS
    assert sum(r.reminded for r in results) == 0
    rows = Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    assert set(rows.values_list("level", "owner_node", "reminders", "version")) == {
        (Level.COMMUNITY, world.tree.community.pk, 1, 2)
    }
    escalations = TicketEvent.objects.filter(action=EventAction.ESCALATED)
    assert Counter(escalations.values_list("ticket_id", flat=True)) == {t.pk: 1 for t in tickets}
    # Every escalation told the community's staff once, and nothing else was queued twice.
    inbox = Notification.objects.filter(user=world.community_staff, event_type="ticket.escalated")
    assert inbox.count() == TICKETS
    assert tickets_sweep(now=now) == SweepResult()


@pytest.mark.parametrize("round_", range(3))
def test_a_ticket_accepted_during_a_sweep_is_accepted_or_escalated_never_both(
    round_: int, small_chunks: None
) -> None:
    world, tickets, now = _overdue_world()
    actor = world.actor(world.worker_a)
    refused: list[str] = []

    def accept_all() -> None:
        for ticket in reversed(tickets):  # from the other end, to meet the sweep in the middle
            try:
                handling.ticket_accept(actor=actor, ticket_id=ticket.pk)
            except ApplicationError as error:  # escalated first: no longer the grid's to accept
                refused.append(error.code)

    results: list[SweepResult] = []
    run_together(accept_all, lambda: results.append(tickets_sweep(now=now)))

    events = Counter(
        TicketEvent.objects.filter(action__in=[EventAction.ACCEPTED, EventAction.ESCALATED]).values_list(
            "ticket_id", "action"
        )
    )
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        if ticket.state == TicketState.ACCEPTED:
            assert (ticket.level, ticket.reminders) == (Level.GRID, 0)
            assert (
                events[(ticket.pk, EventAction.ACCEPTED)],
                events[(ticket.pk, EventAction.ESCALATED)],
            ) == (1, 0)
        else:
            assert (ticket.state, ticket.level, ticket.reminders) == (
                TicketState.SUBMITTED,
                Level.COMMUNITY,
                1,
            )
            assert (
                events[(ticket.pk, EventAction.ACCEPTED)],
                events[(ticket.pk, EventAction.ESCALATED)],
            ) == (0, 1)
    escalated = Ticket.objects.filter(pk__in=[t.pk for t in tickets], level=Level.COMMUNITY).count()
    assert results[0].escalated == escalated == len(refused)
