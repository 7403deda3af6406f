"""Personal data in free text meant for the public: find it (to refuse it at the writer) and mask it
(on the way out, as a second line of defence).

What is looked for: phone numbers (mobile and landline, with spaces or dashes), ID numbers,
e-mail addresses, door numbers (the room or household: 502室, 3单元502, 2-3-502, 1号楼502),
the names given by the caller (the reporter, the staff who handled the matter), and a surname with
a form of address (王师傅, 李阿姨, 张先生). A name the caller does not know and that carries no form of
address cannot be recognised by pattern: texts shown to the public are written by staff for the
public, with a hint saying so, and never copied from a resident's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

MASK = "***"


class Found(StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"
    EMAIL = "email"
    DOOR = "door"
    NAME = "name"


_CN_DIGIT = "零〇一二两三四五六七八九十百"
# An ID number (18 characters, the last maybe X) or an old 15-digit one; before phones, which it contains.
_ID_NUMBER = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9])\d{15}(?![0-9])")
# Seven or more digits, possibly split by spaces or dashes, maybe with +86: a mobile or a landline.
_PHONE = re.compile(r"\+?\d(?:[\s\-－—]?\d){6,}")
# Digits followed by * are a phone masked already (138****5678), never a door number.
# A date (2026-11-24, 2026/11/24) has as many digits as a landline: it is not a phone number.
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_DOOR = re.compile(
    "|".join(
        (
            # 2-3-502, 3-502 (building-entrance-room; a date such as 11-24 is not one)
            r"(?<![\d.])\d{1,3}(?:\s*[-－—]\s*\d{1,3}){0,2}\s*[-－—]\s*\d{3,4}(?![\d.*])",
            # 502室, 1203户, 502号房, 五零二室
            rf"(?:\d+|[{_CN_DIGIT}]+)\s*(?:室|户|号房|房间)",
            # 3单元502, 1号楼502, 2栋1101: a room number after the unit or the building
            rf"(?:单元|号楼|栋|幢|楼)\s*(?:\d{{3,4}}|[{_CN_DIGIT}]{{3,4}})(?![\d号*])",
        )
    )
)
# A surname with a form of address (王师傅, 李阿姨, 刘书记, 王秀英女士) or 老王 / 小李. Surnames that are also
# common word endings (时 in 小时, 师 in 老师, 路 in 小路, 司 in 公司经理, 车 in 小车) are left out: the
# writer is refused on a match, so a false alarm costs a rewrite of a sound sentence.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪"
    "庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳穆农卓古吉缪简项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Forms that follow a whole name (王秀英女士) or a surname; titles and 师傅 only right after a surname,
# since they also follow ordinary words (党委书记, 项目经理, 安排师傅).
_PERSONAL_FORMS = "阿姨|大爷|大妈|大娘|奶奶|爷爷|先生|女士|小姐"
_TITLES = "师傅|大姐|大哥|老师|书记|主任|经理|队长|组长"
_ADDRESSED = re.compile(
    rf"[{_SURNAMES}][\u4e00-\u9fff]{{0,2}}(?={_PERSONAL_FORMS})"
    rf"|[{_SURNAMES}](?={_TITLES})"
    rf"|[老小][{_SURNAMES}](?![\u4e00-\u9fff\d])"
)
MIN_NAME_LENGTH = 2  # one character alone (a surname) is too common in ordinary words to look for


def _names(names: Iterable[str]) -> list[str]:
    """The given names worth looking for, longest first (王秀英 before 秀英)."""
    wanted = {name.strip() for name in names if name and len(name.strip()) >= MIN_NAME_LENGTH}
    return sorted(wanted, key=lambda name: (-len(name), name))


def _phone_or_date(match: re.Match[str]) -> str:
    return match.group() if _DATE.fullmatch(match.group().strip()) else MASK


def personal_data_in(text: str, *, names: Iterable[str] = ()) -> list[Found]:
    """The kinds of personal data found in `text`, in a fixed order; empty when there is none."""
    text = text or ""
    found: list[Found] = []
    if _ID_NUMBER.search(text):
        found.append(Found.ID_NUMBER)
    rest = _ID_NUMBER.sub(" ", text)
    if _PHONE.sub(_phone_or_date, rest) != rest:
        found.append(Found.PHONE)
    rest = _PHONE.sub(_phone_or_date, rest)
    if _EMAIL.search(rest):
        found.append(Found.EMAIL)
    if _DOOR.search(rest):
        found.append(Found.DOOR)
    if _ADDRESSED.search(text) or any(name in text for name in _names(names)):
        found.append(Found.NAME)
    return found


def redact(text: str, *, names: Iterable[str] = ()) -> str:
    """`text` with every piece of personal data that `personal_data_in` finds replaced by ***."""
    text = text or ""
    for name in _names(names):
        text = text.replace(name, MASK)
    text = _ID_NUMBER.sub(MASK, text)
    text = _EMAIL.sub(MASK, text)
    text = _PHONE.sub(_phone_or_date, text)
    text = _DOOR.sub(MASK, text)
    return _ADDRESSED.sub(MASK, text)
