import datetime as dt
import os

import pytest
from django.core.cache import cache

from gongzhi.core.testing import SmallTree, build_small_tree

# GONGZHI_TEST_SHIFT_DAYS=N runs every test as if the wall clock were N days ahead (it still ticks).
# Tests that pin their own instant with time_machine are unaffected; a test that fails only when
# shifted depends on the real date, which is a bug: a suite must pass on any day it is run.
_SHIFT_DAYS = int(os.environ.get("GONGZHI_TEST_SHIFT_DAYS", "0") or 0)


@pytest.fixture(autouse=True)
def _shifted_wall_clock():
    if not _SHIFT_DAYS:
        yield
        return
    import time_machine

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=_SHIFT_DAYS), tick=True):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: rate-limit counters never leak between tests."""
    cache.clear()
    yield


@pytest.fixture
def tree(db) -> SmallTree:
    return build_small_tree()
