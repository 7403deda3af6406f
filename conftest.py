import pytest

from gongzhi.core.testing import SmallTree, build_small_tree


@pytest.fixture
def tree(db) -> SmallTree:
    return build_small_tree()
