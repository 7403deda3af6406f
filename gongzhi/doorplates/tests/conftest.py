import pytest

from gongzhi.core.testing import SmallTree
from gongzhi.doorplates.tests.factories import PlateTree, build_plate_tree


@pytest.fixture
def plates(tree: SmallTree) -> PlateTree:
    return build_plate_tree(tree)
