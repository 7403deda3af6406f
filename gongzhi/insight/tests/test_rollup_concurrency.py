"""Two workers folding at once, and a rebuild racing the worker, on real PostgreSQL connections: every
event is counted once (the mark's row lock serialises the batches; the worker stands aside while a
rebuild refolds the facts)."""

from __future__ import annotations

import pytest
from django.db import connection

from gongzhi.core.testing import run_together, superactor
from gongzhi.insight.models import RollupMark
from gongzhi.insight.services import rollups_rebuild, rollups_update
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import make_world, submit

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers"
    ),
]


def _history() -> None:
    world = make_world()
    root = superactor()
    for index in range(30):
        ticket = submit(
            world.tree, node=world.tree.household_b1 if index % 2 else None, submit_key=f"k{index}"
        )
        if index % 3:
            handling.ticket_accept(actor=root, ticket_id=ticket.pk)
        if index % 3 == 2:
            handling.ticket_resolve(actor=root, ticket_id=ticket.pk, note="修好了")


def test_two_workers_at_once_count_every_event_once() -> None:
    _history()
    run_together(
        lambda: rollups_update(settle_seconds=0, batch=7), lambda: rollups_update(settle_seconds=0, batch=7)
    )
    rollups_update(settle_seconds=0)
    assert stored() == recount()


def test_a_rebuild_racing_the_worker_leaves_the_same_rows() -> None:
    _history()
    rollups_update(settle_seconds=0, batch=11)
    RollupMark.objects.filter(pk=1).update(last_event_id=0)  # the worker replays while the rebuild runs
    run_together(lambda: rollups_rebuild(chunk=4), lambda: rollups_update(settle_seconds=0, batch=5))
    rollups_update(settle_seconds=0)
    mark = RollupMark.objects.get(pk=1)
    assert mark.rebuild_id == ""
    assert stored() == recount()
