"""Category suggestions from the words of a description: keywords, names, and learned words."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from gongzhi.core.testing import SmallTree
from gongzhi.tickets.models import Category, TicketKind
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.suggest import LEARNED_CACHE_KEY, suggest_categories

CATEGORIES = [
    # code, name, keywords, kind
    ("heating", "供暖", "暖气 供暖 不热 暖气片 温度低 供热", TicketKind.HELP),
    ("water", "漏水跑水", "漏水 渗水 跑水 滴水 水管 爆管 天花板", TicketKind.HELP),
    ("drains", "下水道", "下水道 化粪池 堵塞 返味 马桶", TicketKind.HELP),
    ("lighting", "照明", "路灯 楼道灯 声控灯 不亮", TicketKind.HELP),
    ("parking", "停车管理", "停车 乱停 占道 车位 电动车", TicketKind.HELP),
    ("noise", "噪音扰民", "噪音 扰民 广场舞 装修", TicketKind.HELP),
    ("pension", "养老保险", "养老金 社保 退休", TicketKind.AFFAIRS),
    ("advice", "意见建议", "建议 希望 意见", TicketKind.VOICE),
]


@pytest.fixture
def categories(db: None) -> dict[str, Category]:
    Category.objects.all().delete()  # the seeded defaults; these tests bring their own
    return {
        code: Category.objects.create(
            code=code,
            name=name,
            keywords=keywords,
            kind=kind,
            response_minutes=1440,
            resolution_minutes=10080,
            order=index,
        )
        for index, (code, name, keywords, kind) in enumerate(CATEGORIES)
    }


def codes(found: list[Category]) -> list[str]:
    return [category.code for category in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("暖气不热", "heating"),
        ("家里暖气片冰凉，温度只有十五度", "heating"),
        ("楼上漏水", "water"),
        ("卫生间天花板一直往下滴水", "water"),
        ("化粪池堵了，下水道返味", "drains"),
        ("3号楼的路灯晚上不亮", "lighting"),
        ("小区里电动车乱停，占道严重", "parking"),
        ("晚上广场舞噪音太大", "noise"),
        ("我的养老金什么时候到账", "pension"),
    ],
)
def test_the_best_category_comes_first(categories: dict[str, Category], text: str, expected: str) -> None:
    found = suggest_categories(text)

    assert found
    assert found[0].code == expected
    assert len(found) <= 3


def test_nothing_fits_nothing_suggested(categories: dict[str, Category]) -> None:
    assert suggest_categories("你好") == []
    assert suggest_categories("") == []


def test_kind_restricts_the_suggestions(categories: dict[str, Category]) -> None:
    assert codes(suggest_categories("希望增加养老金", kind=TicketKind.AFFAIRS)) == ["pension"]
    assert codes(suggest_categories("希望增加养老金", kind=TicketKind.VOICE)) == ["advice"]


def test_inactive_categories_are_not_suggested(categories: dict[str, Category]) -> None:
    Category.objects.filter(code="heating").update(is_active=False)

    assert "heating" not in codes(suggest_categories("暖气不热"))


def test_words_of_recent_tickets_are_learned_and_cached(
    tree: SmallTree, categories: dict[str, Category]
) -> None:
    # Nothing in the keywords says 蚊子 or 绿化带 belong to drains, but residents used them there.
    assert suggest_categories("蚊子特别多") == []
    for text in ("化粪池满了，蚊子特别多", "下水道返味，招蚊子", "绿化带积水，蚊子成群"):
        ticket_submit(
            actor=None,
            data=TicketInput(
                node_id=tree.household_a1.pk, category_code="drains", description=text, channel="web"
            ),
        )
    assert suggest_categories("蚊子特别多") == []  # the learned words are cached for some minutes

    cache.delete(LEARNED_CACHE_KEY)

    assert codes(suggest_categories("蚊子特别多")) == ["drains"]
    assert cache.get(LEARNED_CACHE_KEY) is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("暖气不热", "heating-cold"),
        ("楼上漏水", "burst-pipe"),
        ("三号楼二单元楼道灯不亮", "stairwell-light"),
        ("夏天蚊子太多了", "mosquito-control"),
        ("门口有人摆摊占道经营", "street-vending"),
    ],
)
def test_the_seeded_categories_are_suggested(db: None, text: str, expected: str) -> None:
    assert suggest_categories(text)[0].code == expected
