from hypothesis import given
from hypothesis import strategies as st

from gongzhi.territory.models import PATH_ALPHABET, path_upper_bound

steps = st.text(alphabet=PATH_ALPHABET, min_size=4, max_size=4)
paths = st.lists(steps, min_size=1, max_size=5).map("".join)


@given(prefix=paths, other=paths)
def test_the_range_holds_exactly_the_paths_under_the_prefix(prefix, other):
    bound = path_upper_bound(prefix)
    in_range = other >= prefix and (bound is None or other < bound)
    assert in_range == other.startswith(prefix)


def test_a_prefix_of_only_the_last_letter_has_no_upper_bound():
    assert path_upper_bound("ZZZZ") is None
    assert path_upper_bound("0001ZZZZ") == "0002"
