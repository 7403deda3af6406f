"""The two xlsx formats (territory, household roster): columns, Chinese headers, cell vocabularies.

Headers are part of the file format that communities already use, so they are Chinese data
literals; what explains them (the notes sheet, error reasons) goes through gettext.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.imports.models import ImportKind
from gongzhi.people.models import Gender, Relation
from gongzhi.territory.models import Heating, NodeKind


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    note: str | Promise
    required: bool = False
    text: bool = False  # stored as text in the templates: codes, phones and ID numbers keep their digits
    width: int = 14
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # offered as a drop-down list in the templates


LEVELS: dict[str, str] = {
    "区": NodeKind.DISTRICT,
    "街道": NodeKind.SUBDISTRICT,
    "社区": NodeKind.COMMUNITY,
    "网格": NodeKind.GRID,
    "微网格": NodeKind.MICRO_GRID,
    "小区": NodeKind.COMPOUND,
    "楼栋": NodeKind.BUILDING,
    "单元": NodeKind.ENTRANCE,
}
LEVEL_NAMES: dict[str, str] = {kind: name for name, kind in LEVELS.items()}
HEATING: dict[str, str] = {"集中供暖": Heating.CENTRAL, "自采暖": Heating.SELF, "无供暖": Heating.NONE}
HEATING_NAMES: dict[str, str] = {value: name for name, value in HEATING.items()}
NO_PROPERTY_MANAGER = "无"
YES_NO: dict[str, bool] = {"是": True, "否": False}
GENDERS: dict[str, str] = {"男": Gender.MALE, "女": Gender.FEMALE}
GENDER_NAMES: dict[str, str] = {value: name for name, value in GENDERS.items()}
RELATIONS: dict[str, str] = {"业主": Relation.OWNER, "租户": Relation.TENANT, "家庭成员": Relation.FAMILY}
RELATION_NAMES: dict[str, str] = {value: name for name, value in RELATIONS.items()}
TAG_SEPARATORS = re.compile(r"[,，、;；]")

TERRITORY_COLUMNS: tuple[Column, ...] = (
    Column(
        "level",
        "层级",
        _("Level of the node: 区, 街道, 社区, 网格, 微网格, 小区, 楼栋 or 单元."),
        required=True,
        width=8,
        choices=tuple(LEVELS),
    ),
    Column(
        "code",
        "编码",
        _("Unique code of the node. An existing code updates that node; a new one creates it."),
        required=True,
        text=True,
        width=18,
    ),
    Column("name", "名称", _("Name of the node, e.g. 奎星楼社区 or 1号楼."), required=True, width=16),
    Column(
        "parent_code",
        "上级编码",
        _("Code of the node it belongs to: a node already in the platform or a row of this file."),
        text=True,
        width=18,
    ),
    Column("latitude", "纬度", _("Latitude in decimal degrees (optional)."), width=11),
    Column("longitude", "经度", _("Longitude in decimal degrees (optional)."), width=11),
    Column("year_built", "建成年份", _("Compounds only: the year it was built."), width=10),
    Column(
        "heating",
        "供暖方式",
        _("Compounds only: 集中供暖, 自采暖 or 无供暖."),
        width=10,
        choices=tuple(HEATING),
    ),
    Column(
        "property_manager",
        "物业公司",
        _("Compounds only: name of a property manager registered in the platform, or 无 for none."),
        width=16,
    ),
    Column("floors", "楼层数", _("Buildings only: number of floors."), width=8),
)

ROSTER_COLUMNS: tuple[Column, ...] = (
    Column(
        "building_code",
        "楼栋编码",
        _("Code of the building (or of the entrance) the household lives in."),
        required=True,
        text=True,
        width=18,
        aliases=("单元编码", "楼栋/单元编码"),
    ),
    Column(
        "door_number",
        "门牌号",
        _("Door number within the building, e.g. 101. The household's code becomes <building code>-<door>."),
        required=True,
        text=True,
        width=10,
    ),
    Column(
        "floor_area",
        "建筑面积(㎡)",
        _(
            "Floor area in square metres, more than 0 and at most 10000. Same value on every row of a household."
        ),
        width=12,
    ),
    Column(
        "party_household",
        "党员中心户(是/否)",
        _("是 if the household is a party-member household (党员中心户), otherwise 否."),
        width=10,
        choices=tuple(YES_NO),
    ),
    Column(
        "name",
        "姓名",
        _("The person's name. One row per person; leave the person's columns empty for an empty household."),
        width=10,
    ),
    Column("phone", "手机号", _("An 11-digit mobile number or a landline."), text=True, width=14),
    Column(
        "id_number",
        "身份证号",
        _("18-character resident ID number; its check digit is verified. Stored only encrypted."),
        text=True,
        width=20,
    ),
    Column("gender", "性别", _("男 or 女."), width=6, choices=tuple(GENDERS)),
    Column(
        "birth_year",
        "出生年份",
        _("Year of birth; taken from the ID number when left empty."),
        width=9,
    ),
    Column(
        "relation",
        "与户关系",
        _("业主 (owner), 租户 (tenant) or 家庭成员 (family member)."),
        width=10,
        choices=tuple(RELATIONS),
    ),
    Column(
        "share",
        "产权份额",
        _(
            "Owners only: their share of the floor area, from 0 to 1. The owners of a household add up to at most 1; empty means equal shares."
        ),
        width=9,
    ),
    Column(
        "tags",
        "标签",
        _("Tag names separated by commas, e.g. 独居老人,残疾人."),
        width=16,
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.TERRITORY: TERRITORY_COLUMNS,
    ImportKind.ROSTER: ROSTER_COLUMNS,
}
SHEET_TITLES: dict[str, str] = {ImportKind.TERRITORY: "区划", ImportKind.ROSTER: "住户花名册"}
HEADERS: dict[str, dict[str, str]] = {
    kind: {column.key: column.header for column in columns} for kind, columns in COLUMNS.items()
}

_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": ""})
_SUFFIX = re.compile(r"\(.*\)$")


def header_base(header: Any) -> str:
    """建筑面积（㎡） / 建筑面积(m²) / 建筑面积 → 建筑面积: units and hints in brackets are optional."""
    text = str(header or "").strip().translate(_FULL_WIDTH)
    return _SUFFIX.sub("", text) if not text.startswith("(") else text


def header_lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    lookup: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            lookup[header_base(name)] = column
    return lookup


def example_rows(kind: str) -> list[dict[str, Any]]:
    """The example rows of the templates (a real-looking district; ID check digit is valid)."""
    if kind == ImportKind.TERRITORY:
        return [
            {"level": "社区", "code": "370812-01-01", "name": "奎星楼社区", "parent_code": "370812-01"},
            {"level": "网格", "code": "KXL-G01", "name": "第一网格", "parent_code": "370812-01-01"},
            {
                "level": "小区",
                "code": "KXL-CDHF",
                "name": "春都华府",
                "parent_code": "KXL-G01",
                "latitude": "35.553900",
                "longitude": "116.828600",
                "year_built": 2008,
                "heating": "集中供暖",
                "property_manager": NO_PROPERTY_MANAGER,
            },
            {"level": "楼栋", "code": "KXL-CDHF-1", "name": "1号楼", "parent_code": "KXL-CDHF", "floors": 6},
            {"level": "单元", "code": "KXL-CDHF-1-U1", "name": "1单元", "parent_code": "KXL-CDHF-1"},
        ]
    return [
        {
            "building_code": "KXL-CDHF-1",
            "door_number": "101",
            "floor_area": 89.5,
            "party_household": "否",
            "name": "张秀英",
            "phone": "13812341234",
            "id_number": "370882195603120015",
            "gender": "女",
            "birth_year": 1956,
            "relation": "业主",
            "share": 1,
            "tags": "独居老人",
        }
    ]
