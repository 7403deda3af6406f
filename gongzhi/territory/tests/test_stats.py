from gongzhi.core.testing import superactor
from gongzhi.people.services import PersonData, person_create
from gongzhi.territory.models import Node, NodeKind, NodeStats
from gongzhi.territory.services import node_move, stats_rebuild


def figures(node):
    stats = NodeStats.objects.get(node=node)
    return (stats.households, stats.residents, stats.party_members, stats.building_leaders)


def test_counts_are_maintained_up_the_tree(tree):
    assert figures(tree.district) == (3, 2, 0, 0)
    assert figures(tree.grid_a) == (2, 1, 0, 0)
    assert figures(tree.grid_b) == (1, 1, 0, 0)


def test_rebuild_gives_the_maintained_numbers(tree):
    before = {n.pk: figures(n) for n in [tree.district, tree.grid_a, tree.grid_b, tree.household_a1]}
    stats_rebuild()
    after = {n.pk: figures(n) for n in [tree.district, tree.grid_a, tree.grid_b, tree.household_a1]}
    assert before == after


def test_moving_a_building_moves_its_counts_and_keeps_references(tree):
    compound_a = Node.objects.get(code="KXL-CDHF")
    node_move(actor=superactor(), node_id=compound_a.pk, new_parent_id=tree.grid_b.pk)
    tree.resident_a.refresh_from_db()
    assert tree.resident_a.home_id == tree.household_a1.pk
    assert figures(tree.grid_a) == (0, 0, 0, 0)
    assert figures(tree.grid_b) == (3, 2, 0, 0)
    assert figures(tree.district) == (3, 2, 0, 0)


def _all_figures():
    return {row.node_id: figures(row.node) for row in NodeStats.objects.select_related("node")}


def test_moving_a_node_that_has_no_counts_row_repairs_the_counts(tree, django_capture_on_commit_callbacks):
    """Regression: node_move crashed (NodeStats.DoesNotExist) on a node added outside the services.
    Its row is made from the raw tables, no ancestor goes below zero (its households were never
    counted above it), and a rebuild after commit makes every count exact."""
    compound_a, compound_b = Node.objects.get(code="KXL-CDHF"), Node.objects.get(code="KXL-DY")
    building = Node.objects.add_child(
        compound_b, instance=Node(kind=NodeKind.BUILDING, code="DY-9", name="9号楼")
    )
    for door in ("101", "102"):
        household = Node.objects.add_child(
            building, instance=Node(kind=NodeKind.HOUSEHOLD, code=f"DY-9-{door}", name=door, door_number=door)
        )
    person_create(actor=superactor(), home_id=household.pk, data=PersonData(name="赵新"))
    building.refresh_from_db()
    assert not NodeStats.objects.filter(node=building).exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        node_move(actor=superactor(), node_id=building.pk, new_parent_id=compound_a.pk)
    assert figures(building) == (2, 1, 0, 0)
    assert figures(compound_b) == (0, 1, 0, 0)  # 1 household - 2 never counted: floored at 0
    assert figures(compound_a) == (4, 2, 0, 0)
    for callback in callbacks:  # the rebuild in the worker (huey runs it at once in the tests)
        callback()
    assert figures(compound_b) == (1, 1, 0, 0)
    assert figures(compound_a) == (4, 2, 0, 0)
    assert figures(tree.district) == (5, 3, 0, 0)
    before = _all_figures()
    stats_rebuild()
    assert _all_figures() == before
