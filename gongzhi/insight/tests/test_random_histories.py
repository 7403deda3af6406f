"""Random ticket histories through the real services (and the sweep, with a frozen clock): every
roll-up, maintained incrementally at random moments (and recounted when the tree moves a grid to
another community), equals a brute-force recount from the raw tickets and events, and a rebuild
from the events gives the same rows."""

from __future__ import annotations

import contextlib
import datetime as dt

import time_machine
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import ApplicationError
from gongzhi.core.testing import superactor
from gongzhi.insight.models import RollupMark
from gongzhi.insight.services import rollups_maintain, rollups_rebuild, rollups_update
from gongzhi.insight.tests.recount import recount, stored
from gongzhi.territory.models import NodeKind
from gongzhi.territory.services import node_create, node_move
from gongzhi.tickets.models import Summons, Ticket
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import make_world, submit

NOW = dt.datetime(2026, 11, 24, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai: histories cross midnight

ticket_index = st.integers(min_value=0, max_value=2)
submission = st.tuples(
    st.just("submit"), st.sampled_from(["a1", "a2", "b1"]), st.sampled_from(["doorplate", "web"])
)
rating = st.sampled_from(["satisfied", "basically_satisfied", "unsatisfied"])
advance = st.tuples(st.just("advance"), ticket_index, rating)
move = st.one_of(
    advance,
    advance,
    advance,
    submission,
    st.tuples(st.sampled_from(["accept", "accept", "resolve", "resolve", "reopen", "reject"]), ticket_index),
    st.tuples(st.just("rate"), ticket_index, rating),
    st.tuples(st.just("merge"), ticket_index, ticket_index),
    st.tuples(st.sampled_from(["whistle", "report_in"]), ticket_index),
    st.tuples(st.just("wait"), st.sampled_from([20, 61, 24 * 60 + 1, 8 * 24 * 60])),
    st.tuples(st.just("roll")),
    st.tuples(st.just("roll")),
    st.tuples(st.just("move_grid")),
)
# One to four tickets first, then moves on them: most moves are legal, some are refused.
histories = st.tuples(
    st.lists(submission, min_size=1, max_size=4), st.lists(move, min_size=4, max_size=24)
).map(lambda parts: parts[0] + parts[1])

# Every kind of fact at least once, whatever the random examples draw.
EVERY_FACT = [
    ("submit", "a1", "doorplate"),
    ("submit", "a2", "web"),
    ("submit", "b1", "doorplate"),
    ("advance", 0, "satisfied"),
    ("roll",),
    ("whistle", 0),
    ("wait", 24 * 60 + 1),
    ("report_in", 0),
    ("advance", 0, "unsatisfied"),
    ("advance", 0, "unsatisfied"),
    ("roll",),
    ("merge", 1, 2),
    ("advance", 2, "satisfied"),
    ("move_grid",),
    ("advance", 2, "satisfied"),
    ("advance", 2, "basically_satisfied"),
    ("roll",),
    ("advance", 0, "satisfied"),
    ("advance", 0, "satisfied"),
    ("roll",),
    ("advance", 0, "basically_satisfied"),
    ("reopen", 2),
    ("submit", "a1", "web"),
    ("wait", 8 * 24 * 60),
]


class RandomHistoryTest(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        with time_machine.travel(NOW, tick=False):
            cls.world = make_world()
            cls.other_community = node_create(
                actor=superactor(),
                parent=cls.world.tree.subdistrict,
                kind=NodeKind.COMMUNITY,
                code="370812-01-02",
                name="长安社区",
            )

    def _run(self, step: tuple, tickets: list[Ticket], traveller: time_machine.Coordinates) -> None:
        root, tree, world = superactor(), self.world.tree, self.world
        name, *args = step
        if name == "submit":
            node = {"a1": tree.household_a1, "a2": tree.household_a2, "b1": tree.household_b1}[args[0]]
            tickets.append(submit(tree, node=node, channel=args[1]))
            return
        if name == "wait":
            traveller.shift(dt.timedelta(minutes=args[0]))
            tickets_sweep()
            return
        if name == "roll":
            rollups_maintain()  # after a grid moved: recounted where it is now; then the new events
            rollups_update(settle_seconds=0)
            return
        if name == "move_grid":
            grid = tree.grid_b
            grid.refresh_from_db()
            target = self.other_community if grid.path.startswith(tree.community.path) else tree.community
            node_move(actor=root, node_id=grid.pk, new_parent_id=target.pk)
            return
        if not tickets:
            return
        ticket = tickets[args[0] % len(tickets)]
        ticket.refresh_from_db()
        if name == "advance":
            name = self._next_move(ticket)
        if name == "accept":
            handling.ticket_accept(actor=root, ticket_id=ticket.pk)
        elif name == "resolve":
            handling.ticket_resolve(actor=root, ticket_id=ticket.pk, note="修好了")
        elif name == "rate":
            handling.ticket_rate(token=ticket.follow_token, rating=args[1])
        elif name == "reopen":
            handling.ticket_reopen(actor=root, ticket_id=ticket.pk, reason="没修好")
        elif name == "reject":
            handling.ticket_reject(actor=root, ticket_id=ticket.pk, reason="不属于本社区")
        elif name == "merge":
            into = tickets[args[1] % len(tickets)]
            handling.ticket_merge(actor=root, ticket_id=ticket.pk, into_id=into.pk)
        elif name == "whistle":
            handling.ticket_whistle(
                actor=root, ticket_id=ticket.pk, department_ids=[world.department.pk], note="请城管到场"
            )
        elif name == "confirm":
            self._confirm(ticket)
        elif name == "report_in":
            summons = Summons.objects.filter(whistle__ticket=ticket, reported_at__isnull=True).first()
            if summons is not None:
                handling.summons_report_in(actor=resolve_actor(world.handler), summons_id=summons.pk)

    def _next_move(self, ticket: Ticket) -> str:
        """The natural next step of a ticket: accept, resolve (through its departments), rate."""
        if ticket.state in ("submitted", "reopened"):
            return "accept"
        if ticket.state in ("accepted", "in_progress"):
            return "confirm" if ticket.whistles.filter(confirmed_at__isnull=True).exists() else "resolve"
        return "rate"

    def _confirm(self, ticket: Ticket) -> None:
        handler = resolve_actor(self.world.handler)
        for summons in Summons.objects.filter(whistle__ticket=ticket, acted_at__isnull=True):
            if summons.reported_at is None:
                handling.summons_report_in(actor=handler, summons_id=summons.pk)
            handling.summons_record_action(actor=handler, summons_id=summons.pk, note="已清理")
        for whistle in ticket.whistles.filter(confirmed_at__isnull=True):
            handling.whistle_confirm(actor=superactor(), whistle_id=whistle.pk, note="确认办结")

    def _play(self, history: list[tuple]) -> dict:
        with time_machine.travel(NOW, tick=False) as traveller:
            tickets: list[Ticket] = []
            for step in history:
                # An illegal move in this state: the services refuse it and nothing changes.
                with contextlib.suppress(ApplicationError):
                    self._run(step, tickets, traveller)
            rollups_maintain()
            rollups_update(settle_seconds=0)
            incremental = stored()
            self.assertEqual(incremental, recount())
            self.assertEqual(rollups_update(settle_seconds=0).events, 0)  # running again: nothing
            self.assertEqual(stored(), incremental)
            RollupMark.objects.filter(pk=1).update(last_event_id=0)  # replay every event: nothing changes
            rollups_update(settle_seconds=0)
            self.assertEqual(stored(), incremental)
            rollups_rebuild()
            self.assertEqual(stored(), incremental)
            return incremental

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(history=histories)
    @example(history=EVERY_FACT)
    def test_rollups_equal_a_recount_from_the_events(self, history: list[tuple]) -> None:
        self._play(history)

    def test_the_recount_covers_every_roll_up(self) -> None:
        tables = self._play(EVERY_FACT)
        self.assertEqual([name for name, rows in tables.items() if not rows], [])
        dimensions = {key[2] for key in tables["node_dimension"]}
        self.assertEqual(dimensions, {"kind", "category", "channel", "level", "respond", "resolve"})
        self.assertIn("漏水", {key[2] for key in tables["term"]})
