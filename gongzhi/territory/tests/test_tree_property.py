"""Random sequences of tree writes keep the tree valid, the counts exact and references alive.

A hypothesis state machine adds nodes one by one and in bulk, moves subtrees, registers people
and party members on a small tree, and after every step checks that (a) the maintained counts
equal a rebuild from the raw tables, (b) the tree has no problems and every node's kind may sit
under its parent's kind, (c) every person's home and residency still point at existing nodes.
Rejected steps (a kind in the wrong place, a move under itself) must change nothing.
"""

from __future__ import annotations

import itertools

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.testing import SmallTree, assert_tree_is_valid, make_id_number, superactor
from gongzhi.people.models import Person, Residency
from gongzhi.people.services import PersonData, party_membership_set, person_create
from gongzhi.territory.models import CHILD_KINDS, Node, NodeKind, NodeStats, Organization
from gongzhi.territory.services import NodeSpec, node_create, node_move, nodes_bulk_add, stats_rebuild

KINDS = [kind.value for kind in NodeKind]
NAMES = ["张秀英", "李建国", "王丽", "刘洋", "陈静", "杨帆"]
Figures = dict[int, tuple[int, int, int, int]]


class Rollback(Exception):
    """Raised inside a savepoint to undo a rejected step."""


def figures() -> Figures:
    return {
        row.node_id: (row.households, row.residents, row.party_members, row.building_leaders)
        for row in NodeStats.objects.all()
    }


def tree_state() -> tuple[list[tuple[int, str, int]], Figures, int]:
    return list(Node.objects.values_list("pk", "path", "numchild")), figures(), Person.objects.count()


class TreeMachine(RuleBasedStateMachine):
    tree: SmallTree  # built once by the test; every example starts from it

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in its own savepoint, undone in teardown: the same small tree every time.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.root = superactor()
        self.branch = Organization.objects.create(
            code="P-TEST", name="奎星楼社区党委", kind="party", party_level="committee"
        )
        self.serial = itertools.count(100)

    def teardown(self) -> None:
        try:
            problems = Node.objects.find_problems()
        finally:
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        assert all(found == [] for found in problems), problems

    def node(self, index: int) -> Node:
        nodes = list(Node.objects.order_by("pk"))
        return nodes[index % len(nodes)]

    def code(self) -> str:
        return f"T{next(self.serial)}"

    def attempt(self, allowed: bool, write: object) -> None:
        """Run `write` in a savepoint; a refused write must raise and leave everything as it was."""
        before = tree_state()
        try:
            with transaction.atomic():
                write()  # type: ignore[operator]
        except ValidationFailed:
            assert not allowed
            assert tree_state() == before
        else:
            assert allowed

    def attributes(self, kind: str) -> dict[str, object]:
        return {"door_number": "101", "floor_area": "88.50"} if kind == NodeKind.HOUSEHOLD else {}

    @rule(parent=st.integers(min_value=0), kind=st.sampled_from(KINDS))
    def create_one(self, parent: int, kind: str) -> None:
        parent_node = self.node(parent)
        self.attempt(
            kind in CHILD_KINDS[parent_node.kind],
            lambda: node_create(
                actor=self.root,
                parent=parent_node,
                kind=kind,
                code=self.code(),
                name=kind,
                **self.attributes(kind),
            ),
        )

    @rule(parent=st.integers(min_value=0), kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    def add_in_bulk(self, parent: int, kinds: list[str]) -> None:
        parent_node = self.node(parent)
        specs = [NodeSpec(kind, self.code(), kind, self.attributes(kind)) for kind in kinds]
        self.attempt(
            all(kind in CHILD_KINDS[parent_node.kind] for kind in kinds),
            lambda: nodes_bulk_add(parent_node, specs),
        )

    @rule(node=st.integers(min_value=0), new_parent=st.integers(min_value=0))
    def move(self, node: int, new_parent: int) -> None:
        moving, target = self.node(node), self.node(new_parent)
        allowed = moving.kind in CHILD_KINDS[target.kind] and not target.path.startswith(moving.path)
        self.attempt(allowed, lambda: node_move(actor=self.root, node_id=moving.pk, new_parent_id=target.pk))

    @rule(home=st.integers(min_value=0), name=st.sampled_from(NAMES), with_id=st.booleans())
    def register_person(self, home: int, name: str, with_id: bool) -> None:
        home_node = self.node(home)
        id_number = make_id_number(next(self.serial), "19800101") if with_id else ""
        person_create(actor=self.root, home_id=home_node.pk, data=PersonData(name=name, id_number=id_number))

    @rule(person=st.integers(min_value=0))
    def join_party(self, person: int) -> None:
        people = list(Person.objects.order_by("pk"))
        chosen = people[person % len(people)]
        party_membership_set(actor=self.root, person_id=chosen.pk, organization_id=self.branch.pk)

    @invariant()
    def counts_equal_a_rebuild(self) -> None:
        maintained = figures()
        stats_rebuild()
        assert figures() == maintained

    @invariant()
    def tree_is_valid(self) -> None:
        assert_tree_is_valid()

    @invariant()
    def references_point_at_existing_nodes(self) -> None:
        node_ids = set(Node.objects.values_list("pk", flat=True))
        assert set(Person.objects.values_list("home_id", flat=True)) <= node_ids
        households = set(Node.objects.filter(kind=NodeKind.HOUSEHOLD).values_list("pk", flat=True))
        assert set(Residency.objects.values_list("household_id", flat=True)) <= households
        assert (
            Node.objects.get(pk=self.tree.household_a1.pk).people.filter(pk=self.tree.resident_a.pk).exists()
        )


def test_random_tree_writes_keep_counts_shape_and_references(tree: SmallTree) -> None:
    TreeMachine.tree = tree
    run_state_machine_as_test(
        TreeMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
