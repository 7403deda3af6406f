import pytest
from django.core.cache import cache

from gongzhi.core.testing import SmallTree, build_small_tree


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counters never leak between tests."""
    cache.clear()
    yield


@pytest.fixture
def tree(db) -> SmallTree:
    return build_small_tree()
