from gongzhi.core.testing import superactor
from gongzhi.territory.models import Node, NodeStats
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
