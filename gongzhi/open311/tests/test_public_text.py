"""The masking of free text shown by the public GET calls."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.open311.selectors import public_text

MOBILE = re.compile(r"1[3-9]\d{9}")


@given(
    before=st.text(alphabet="漏水楼顶 电话：,abc", max_size=20),
    after=st.text(alphabet="漏水楼顶 电话：,abc", max_size=20),
    mobile=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    prefix=st.sampled_from(["", "+86", "86-", "+86 "]),
)
def test_no_mobile_number_survives(before: str, after: str, mobile: str, prefix: str) -> None:
    shown = public_text(f"{before}{prefix}{mobile}{after}")
    assert mobile not in shown
    assert shown.startswith(before) and shown.endswith(after)
    assert f"{mobile[:3]}****{mobile[-4:]}" in shown


def test_email_addresses_and_the_reporters_name_are_masked() -> None:
    assert (
        public_text("联系邮箱zhang.xy@example.org，找张秀英", reporter_name="张秀英")
        == "联系邮箱***@***，找张**"
    )
    # The published address stops at the entrance, so a door number in the words is masked too.
    assert public_text("门牌101室，面积89.5平方米") == "门牌***，面积89.5平方米"
    shown = public_text("王师傅已到3单元502查看")
    assert "王" not in shown and "502" not in shown and shown.endswith("查看")
