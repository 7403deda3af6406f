"""Two workers pressing "accept" at the same moment, on real connections: one owner, one event."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import ApplicationError
from gongzhi.core.testing import make_user
from gongzhi.tickets.models import EventAction, Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import make_world, submit
from gongzhi.tickets.workflow import TicketState


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers"
)
@pytest.mark.parametrize("round_", range(5))
def test_concurrent_accepts_yield_one_owner(round_: int) -> None:
    world = make_world()
    chief = make_user(f"chief{round_}", role=Role.GRID_CHIEF, node=world.tree.grid_a)
    ticket = submit(world.tree)
    users = [world.worker_a, chief]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def press_accept(user) -> None:
        actor = resolve_actor(user)
        barrier.wait()
        try:
            handling.ticket_accept(actor=actor, ticket_id=ticket.pk)
            outcomes.append("accepted")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_accept, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert sorted(outcomes) == ["accepted", "illegal_transition"] or sorted(outcomes) == [
        "accepted",
        "conflict",
    ]
    assert ticket.state == TicketState.ACCEPTED and ticket.version == 2
    assert ticket.assignee in users
    assert ticket.events.filter(action=EventAction.ACCEPTED).count() == 1
