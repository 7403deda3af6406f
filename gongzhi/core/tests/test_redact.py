"""Personal data in text meant for the public: found (the writer is refused) and masked (on the way out)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.redact import MASK, Found, personal_data_in, redact

SAFE = st.text(alphabet="已更换楼道灯和声控开关，清理了积水。修好水管", max_size=12)
MOBILE = st.from_regex(r"1[3-9]\d{9}", fullmatch=True)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("王师傅已更换水管", [Found.NAME]),
        ("李阿姨家的灯修好了", [Found.NAME]),
        ("张建国先生反映的问题已解决", [Found.NAME]),
        ("已联系刘书记", [Found.NAME]),
        ("有事请拨 139-1234-5678", [Found.PHONE]),
        ("座机 0537-3412345", [Found.PHONE]),
        ("身份证号 11010119900307451X", [Found.ID_NUMBER]),
        ("3单元502漏水已修好", [Found.DOOR]),
        ("1203室已处理", [Found.DOOR]),
        ("2-3-502 已处理", [Found.DOOR]),
        ("邮箱 wang@example.cn", [Found.EMAIL]),
    ],
)
def test_it_finds_personal_data(text: str, kinds: list[Found]) -> None:
    assert personal_data_in(text) == kinds
    assert MASK in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "已更换楼道灯和声控开关。",
        "网格员联系物业更换了LED灯。",
        "安排师傅上门维修，2小时内恢复供水。",
        "社区党委书记和项目经理到场协调。",
        "已于2026-11-24完成，室温18℃以上。",
        "1号楼2单元楼道灯已更换，共更换120米管道。",
        "独居老人家的暖气已排气。",
    ],
)
def test_it_leaves_ordinary_sentences_alone(text: str) -> None:
    assert personal_data_in(text) == []
    assert redact(text) == text


def test_it_finds_the_names_it_is_given() -> None:
    assert personal_data_in("秀英家已修好", names=["秀英", "王"]) == [Found.NAME]  # one character: ignored
    assert redact("王秀英和秀英", names=["王秀英", "秀英"]) == f"{MASK}和{MASK}"


@given(before=SAFE, phone=MOBILE, separator=st.sampled_from(["", " ", "-"]), after=SAFE)
def test_a_phone_never_survives(before: str, phone: str, separator: str, after: str) -> None:
    text = before + separator.join([phone[:3], phone[3:7], phone[7:]]) + after
    assert Found.PHONE in personal_data_in(text)
    masked = redact(text)
    assert phone[3:7] not in masked and phone[7:] not in masked


@given(
    before=SAFE,
    building=st.integers(1, 30),
    entrance=st.integers(1, 9),
    room=st.integers(101, 2604),
    after=SAFE,
)
def test_a_door_number_never_survives(
    before: str, building: int, entrance: int, room: int, after: str
) -> None:
    for door in (f"{building}号楼{entrance}单元{room}", f"{building}-{entrance}-{room}", f"{room}室"):
        text = before + door + after
        assert personal_data_in(text), text  # a door number (or, with seven digits, a phone number)
        assert str(room) not in redact(text), text
