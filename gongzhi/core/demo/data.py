"""Literal data of the demo district 兖州区: places, organizations and Chinese names.

Place names follow the press reports about 兖州's "睦邻党建" work (鼓楼、龙桥、酒仙桥街道;
奎星楼、长安、锦绣、飞龙、邓家窑、东关社区; 春都华府、东苑小区、奎星苑南区、长安西区、山拖小区);
the other communities and compounds are invented but plausible. People are invented.
"""

from __future__ import annotations

from dataclasses import dataclass

# The reference year of the demo: ages, "60+" and "0–3 years" are counted against it, so the
# data stays the same whatever year the demo is built in.
REFERENCE_YEAR = 2025
SEED = 370812

DISTRICT_CODE = "370812"
DISTRICT_NAME = "兖州区"
# Centre of 兖州 and the rectangle the demo's boundaries are cut from (longitude, latitude).
DISTRICT_BOX = (116.800, 35.520, 116.870, 35.580)


@dataclass(frozen=True)
class BuildingType:
    """A kind of residential building: floors, entrances (单元), flats per floor, floor area."""

    floors: tuple[int, int]
    entrances: tuple[int, int]
    per_floor: int
    area: tuple[int, int]


BUILDING_TYPES: dict[str, BuildingType] = {
    "dorm": BuildingType(floors=(4, 5), entrances=(2, 3), per_floor=3, area=(45, 72)),  # 单位宿舍
    "old": BuildingType(floors=(5, 6), entrances=(3, 4), per_floor=2, area=(55, 105)),  # 老旧多层
    "walkup": BuildingType(floors=(6, 7), entrances=(4, 5), per_floor=2, area=(60, 120)),  # 大型多层
    "mid": BuildingType(floors=(11, 12), entrances=(2, 2), per_floor=2, area=(80, 140)),  # 小高层
    "high": BuildingType(floors=(17, 18), entrances=(2, 2), per_floor=2, area=(90, 160)),  # 高层
}


@dataclass(frozen=True)
class CompoundSpec:
    """A compound (小区) or, with `loose=True`, a group of buildings without one (散居楼院)."""

    name: str
    building_type: str
    buildings: int
    year_built: int | None = None
    property_manager: str | None = None  # a PROPERTY_MANAGERS key; None: no property manager
    heating: str = "central"
    loose: bool = False


def _c(
    name: str, year: int, manager: str | None, building_type: str, buildings: int, heating: str = "central"
) -> CompoundSpec:
    return CompoundSpec(name, building_type, buildings, year, manager, heating)


def _loose(name: str, building_type: str, buildings: int) -> CompoundSpec:
    return CompoundSpec(name, building_type, buildings, loose=True)


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    grids: tuple[tuple[CompoundSpec, ...], ...]  # per grid, what lies in it


@dataclass(frozen=True)
class SubdistrictSpec:
    code: str
    name: str
    communities: tuple[CommunitySpec, ...]


# 3 subdistricts, 9 communities, 40 grids, 150 buildings.
SUBDISTRICTS: tuple[SubdistrictSpec, ...] = (
    SubdistrictSpec(
        "370812001",
        "鼓楼街道",
        (
            # 奎星楼社区: six compounds of five kinds (单位宿舍、回迁安置、老旧小区、商品房、保障房).
            CommunitySpec(
                "奎星楼社区",
                (
                    (_c("奎星苑南区", 2003, "chengjian", "old", 4),),
                    (_c("奎星苑北区", 2005, "chengjian", "old", 3),),
                    (_c("鼓楼花园", 1996, None, "walkup", 7),),
                    (_loose("供销社宿舍", "dorm", 2), _c("奎星楼安置小区", 2012, "chengjian", "mid", 2)),
                    (_c("安居苑", 2014, "huaxin", "high", 3),),
                ),
            ),
            CommunitySpec(
                "长安社区",
                (
                    (_c("长安西区", 1998, None, "old", 5),),
                    (_c("长安东区", 2001, "lurun", "old", 4),),
                    (_c("山拖小区", 1985, None, "dorm", 4, "none"),),
                    (_c("长安花园", 2010, "lurun", "mid", 4),),
                ),
            ),
            CommunitySpec(
                "西御桥社区",
                (
                    (_c("御桥小区", 1999, None, "old", 5, "self"),),
                    (_c("西御桥新村", 2003, "chengjian", "old", 4),),
                    (_loose("文化路宿舍", "dorm", 4),),
                    (_c("御景华庭", 2016, "huaxin", "high", 3),),
                ),
            ),
        ),
    ),
    SubdistrictSpec(
        "370812002",
        "龙桥街道",
        (
            CommunitySpec(
                "锦绣社区",
                (
                    (_c("春都华府", 2011, "chundu", "high", 3),),
                    (_c("锦绣花园", 2008, "chundu", "mid", 4),),
                    (_c("锦绣苑", 2000, None, "old", 4),),
                    (_c("龙桥南苑", 2005, "lurun", "old", 3),),
                    (_loose("粮食局宿舍", "dorm", 3),),
                ),
            ),
            CommunitySpec(
                "飞龙社区",
                (
                    (_c("飞龙小区", 1997, None, "old", 5, "self"),),
                    (_c("飞龙新城", 2013, "chundu", "high", 3),),
                    (_c("龙城御园", 2018, "huaxin", "high", 3),),
                    (_c("飞龙东苑", 2002, "lurun", "old", 4),),
                ),
            ),
            CommunitySpec(
                "九州社区",
                (
                    (_c("九州花园", 2009, "chundu", "mid", 4),),
                    (_c("九州方园", 2015, "huaxin", "high", 3),),
                    (_loose("建设路宿舍", "dorm", 3),),
                    (_c("南关小区", 1993, None, "old", 4, "none"),),
                ),
            ),
        ),
    ),
    SubdistrictSpec(
        "370812003",
        "酒仙桥街道",
        (
            CommunitySpec(
                "邓家窑社区",
                (
                    (_c("邓家窑小区", 1999, None, "old", 5),),
                    (_c("东苑小区", 2004, "chengjian", "old", 4),),
                    (_c("邓家窑新村", 2011, "lurun", "mid", 3),),
                    (_c("兴隆苑", 2007, "chengjian", "old", 3),),
                    (_c("万顺家园", 2017, "huaxin", "high", 2),),
                ),
            ),
            CommunitySpec(
                "东关社区",
                (
                    (_c("东关小区", 1990, None, "old", 5, "none"),),
                    (_loose("东关大街宿舍", "dorm", 4),),
                    (_c("东关新苑", 2006, "chengjian", "old", 4),),
                    (_c("东方花园", 2000, None, "old", 4, "self"),),
                ),
            ),
            CommunitySpec(
                "青莲阁社区",
                (
                    (_c("青莲小区", 1995, None, "old", 4),),
                    (_c("酒仙桥花园", 2009, "lurun", "mid", 4),),
                    (_c("青莲阁新苑", 2019, "huaxin", "high", 3),),
                    (_loose("铁路宿舍", "dorm", 3),),
                    (_c("金河湾", 2014, "chundu", "high", 2),),
                ),
            ),
        ),
    ),
)

TARGET_HOUSEHOLDS = 6000
TARGET_RESIDENTS = 15000
# A compound with at least this many buildings has its own party branch (小区党支部).
COMPOUND_BRANCH_MIN_BUILDINGS = 3

# --- Organizations -----------------------------------------------------------------------
PROPERTY_MANAGERS: dict[str, str] = {
    "chengjian": "兖州城建物业服务有限公司",
    "chundu": "山东春都物业管理有限公司",
    "lurun": "济宁鲁润物业服务有限公司",
    "huaxin": "兖州华信物业管理有限公司",
}

# code, name
MATTER_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("water", "供水"),
    ("power", "供电"),
    ("gas", "燃气"),
    ("heating", "供暖"),
    ("sanitation", "环境卫生"),
    ("parking", "停车管理"),
    ("housing_repair", "房屋维修"),
    ("property", "物业管理"),
    ("elderly_care", "养老服务"),
    ("social_assistance", "社会救助"),
    ("health", "医疗卫生"),
    ("public_security", "治安防范"),
    ("market", "市场监管"),
)

# code, name, categories it answers for
DEPARTMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("zhujian", "兖州区住房和城乡建设局", ("housing_repair", "property")),
    ("chengguan", "兖州区城市管理局", ("sanitation", "parking")),
    ("minzheng", "兖州区民政局", ("elderly_care", "social_assistance")),
    ("weijian", "兖州区卫生健康局", ("health",)),
    ("water", "兖州区供水公司", ("water",)),
    ("power", "国网兖州区供电公司", ("power",)),
    ("gas", "兖州区燃气公司", ("gas",)),
    ("heat", "兖州区热力公司", ("heating",)),
    ("police", "济宁市公安局兖州分局", ("public_security",)),
    ("market", "兖州区市场监督管理局", ("market",)),
)
WATER_DEPARTMENT = "water"

# code, name, communities served (indexes in the order of SUBDISTRICTS' communities)
CO_BUILDING_UNITS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("hospital", "兖州区人民医院", (0, 1)),
    ("grid-power", "国网兖州供电中心", (2, 3)),
    ("bank", "兖州农商银行", (4, 5)),
    ("school", "兖州区实验小学", (0, 6)),
    ("post", "中国邮政兖州分公司", (7, 8)),
    ("tax", "国家税务总局兖州区税务局", (1, 8)),
)
PARTNER_UNIT = "hospital"

# 幸福合伙人: social organizations and merchants. code, name, kind, communities served
PARTNERS: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("bees", "小蜜蜂义工团", "social_organization", (6, 7)),
    ("red-heart", "兖州区红心公益服务中心", "social_organization", (0, 1, 2)),
    ("sunset", "兖州区夕阳红助老协会", "social_organization", (3, 4, 5)),
    ("neighbours", "邻里家政服务社", "social_organization", (0, 8)),
    ("wanshun", "万顺网约车兖州服务点", "merchant", (6,)),
    ("pharmacy", "惠民大药房", "merchant", (0, 1)),
    ("market", "鲁兴便民超市", "merchant", (3, 4)),
    ("breakfast", "春都早餐店", "merchant", (3,)),
)

# --- Names -------------------------------------------------------------------------------
# Family names with weights in per mille, after the 2020 census ranking; 孔 and 颜 are common
# around 曲阜 and 兖州 and weighted up.
FAMILY_NAMES: tuple[tuple[str, int], ...] = (
    ("王", 71),
    ("李", 70),
    ("张", 67),
    ("刘", 51),
    ("陈", 46),
    ("杨", 32),
    ("黄", 24),
    ("赵", 22),
    ("吴", 21),
    ("周", 20),
    ("徐", 15),
    ("孙", 14),
    ("马", 13),
    ("朱", 13),
    ("胡", 12),
    ("郭", 11),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 8),
    ("宋", 8),
    ("唐", 7),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 7),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 6),
    ("董", 6),
    ("袁", 5),
    ("潘", 5),
    ("于", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 5),
    ("杜", 5),
    ("叶", 4),
    ("程", 4),
    ("苏", 4),
    ("魏", 4),
    ("吕", 4),
    ("丁", 4),
    ("任", 4),
    ("沈", 4),
    ("姚", 4),
    ("卢", 4),
    ("姜", 4),
    ("崔", 4),
    ("孔", 6),
    ("颜", 3),
    ("石", 3),
    ("贾", 3),
    ("孟", 3),
    ("秦", 3),
    ("侯", 3),
    ("薛", 3),
    ("闫", 3),
    ("史", 2),
    ("毛", 2),
    ("邵", 2),
    ("武", 2),
    ("钱", 2),
    ("段", 2),
    ("范", 2),
)

# Given names by generation: (born up to this year, male names, female names).
# fmt: off
GIVEN_NAMES: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        1959,
        (
            "建国", "国强", "德明", "振华", "文明", "志刚", "国华", "玉山", "保国", "长林",
            "庆祥", "宝山", "传福", "广田", "华山", "德胜", "明亮", "洪涛", "永福", "春生",
            "金山", "学文", "继红", "树林", "凤山", "立本", "兆祥", "广才", "士杰", "中和",
        ),
        (
            "秀英", "桂英", "秀兰", "玉兰", "桂兰", "秀珍", "凤英", "玉珍", "玉梅", "淑珍",
            "凤兰", "秀荣", "玉英", "兰英", "桂荣", "淑英", "秀芳", "桂芝", "玉芳", "素芬",
            "翠英", "金凤", "玉华", "秀云", "凤琴", "淑兰", "桂香", "玉琴", "荣华", "秀梅",
        ),
    ),
    (
        1979,
        (
            "建军", "建华", "卫东", "立新", "东升", "志勇", "永刚", "红军", "卫国", "庆华",
            "伟", "强", "军", "勇", "斌", "刚", "平", "明", "涛", "峰",
            "海军", "新民", "文杰", "宏伟", "建平", "国庆", "振宇", "向阳", "春雷", "兆军",
        ),
        (
            "丽", "静", "敏", "燕", "艳", "娟", "霞", "芳", "红", "萍",
            "丽娟", "海燕", "红梅", "丽华", "雪梅", "春梅", "玉洁", "晓红", "秀丽", "爱华",
            "桂芳", "凤霞", "红霞", "美玲", "晓燕", "丽萍", "彩霞", "文静", "翠萍", "俊英",
        ),
    ),
    (
        1999,
        (
            "磊", "鹏", "超", "杰", "浩", "亮", "鑫", "帅", "凯", "宇",
            "海涛", "晓东", "俊杰", "志强", "文博", "建伟", "东旭", "振东", "晓明", "博",
            "家豪", "天宇", "明辉", "泽民", "兆龙", "鹏飞", "晓峰", "新宇", "立伟", "冬冬",
        ),
        (
            "婷", "丹", "倩", "颖", "琳", "璐", "慧", "晶", "洁", "雪",
            "婷婷", "晓雯", "欣然", "梦洁", "佳琪", "倩倩", "丽丽", "晓丽", "文娟", "莉莉",
            "蕾", "思雨", "静怡", "梦瑶", "晓彤", "瑞雪", "冰洁", "雅琪", "晨曦", "玉婷",
        ),
    ),
    (
        2012,
        (
            "浩然", "子轩", "宇航", "博文", "昊天", "皓轩", "梓豪", "泽宇", "明轩", "嘉诚",
            "浩宇", "俊熙", "子豪", "宇轩", "一鸣", "天佑", "铭泽", "思源", "瑞霖", "子健",
        ),
        (
            "欣怡", "佳怡", "思琪", "雨涵", "诗涵", "子涵", "梓涵", "雨欣", "佳琪", "可馨",
            "语嫣", "紫萱", "梦琪", "欣妍", "一诺", "若曦", "悦", "心怡", "思涵", "雨桐",
        ),
    ),
    (
        9999,
        (
            "沐宸", "梓睿", "奕辰", "宇泽", "浩宇", "一鸣", "子墨", "景行", "睿泽", "昱辰",
            "承泽", "俊熙", "铭轩", "煜祺", "嘉树", "安和", "君浩", "锦程", "霖", "晨阳",
        ),
        (
            "一诺", "若汐", "雨桐", "语桐", "梓萱", "可欣", "沐晴", "思淼", "安然", "星玥",
            "芷若", "依诺", "知夏", "清欢", "梦溪", "书瑶", "佳宁", "欣悦", "诗雨", "予安",
        ),
    ),
)
# fmt: on

# Mainland mobile prefixes (China Mobile, Unicom, Telecom).
MOBILE_PREFIXES: tuple[str, ...] = (
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
    "182", "183", "187", "188", "130", "131", "132", "155", "156", "185", "186", "133",
    "153", "173", "177", "180", "181", "189", "199",
)  # fmt: skip
