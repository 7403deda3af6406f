"""The default categories of the data migration: Beijing 12345's deadlines, questions, reruns."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.testing import build_small_tree
from gongzhi.tickets.deadlines import Counting
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType
from gongzhi.tickets.services.answers import answers_clean
from gongzhi.tickets.services.intake import TicketInput, ticket_submit

seed = importlib.import_module("gongzhi.tickets.migrations.0002_seed_default_categories")

HOUR, WORKDAY = 60, 8 * 60
MONDAY_MORNING = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing time


@pytest.fixture(autouse=True)
def seeded(db):
    # The migration seeded them; a transactional test elsewhere may have flushed the tables.
    seed.seed_categories(apps)


def test_the_migration_seeds_every_default_category(db):
    codes = set(Category.objects.values_list("code", flat=True))
    assert {row[0] for row in seed.CATEGORIES} <= codes
    names = set(Category.objects.values_list("name", flat=True))
    assert {"爆管漏水", "停水", "停电", "供暖不热", "楼道照明", "垃圾清运", "占道经营", "噪音扰民"} <= names
    assert {"蚊虫消杀", "下水道堵塞", "电梯故障", "飞线充电", "停车管理", "绿化养护"} <= names
    assert {"社保医保咨询", "户籍证明咨询", "意见建议"} <= names


@pytest.mark.parametrize(
    ("code", "response", "resolution", "counting", "urgent"),
    [
        ("burst-pipe", 15, 2 * HOUR, Counting.CALENDAR, True),  # 红帽一刻钟, emergencies 2 h
        ("water-outage", 2 * HOUR, 24 * HOUR, Counting.CALENDAR, False),
        ("power-outage", 2 * HOUR, 24 * HOUR, Counting.CALENDAR, False),
        ("gas-supply", 2 * HOUR, 24 * HOUR, Counting.CALENDAR, False),
        ("heating-cold", 2 * HOUR, 24 * HOUR, Counting.CALENDAR, False),
        ("stairwell-light", WORKDAY, 7 * WORKDAY, Counting.WORKING, False),  # general: 7 days
        ("parking", WORKDAY, 7 * WORKDAY, Counting.WORKING, False),
        ("suggestion", WORKDAY, 15 * WORKDAY, Counting.WORKING, False),  # complex: 15 days
        ("neighbour-dispute", WORKDAY, 15 * WORKDAY, Counting.WORKING, False),
    ],
)
def test_deadlines_follow_beijing_12345s_defaults(code, response, resolution, counting, urgent):
    category = Category.objects.get(code=code)
    assert (category.response_minutes, category.resolution_minutes) == (response, resolution)
    assert (category.counting, category.is_urgent) == (counting, urgent)


def test_kinds_and_levels(db):
    kinds = dict(Category.objects.values_list("code", "kind"))
    assert kinds["social-insurance"] == kinds["household-registration"] == "affairs"
    assert kinds["suggestion"] == "voice"
    assert kinds["burst-pipe"] == kinds["parking"] == "help"
    levels = dict(Category.objects.values_list("code", "default_level"))
    assert levels["stairwell-light"] == 1 and levels["street-vending"] == 2
    assert all(Category.objects.get(code=row[0]).keywords for row in seed.CATEGORIES)


def test_a_leak_asks_for_the_floor_and_the_place(db):
    leak = Category.objects.get(code="burst-pipe")
    floor, place = leak.questions.order_by("order")
    assert (floor.code, floor.datatype, floor.required) == ("floor", QuestionType.NUMBER, True)
    assert (place.datatype, place.required) == (QuestionType.SINGLE, False)
    assert [choice["name"] for choice in place.choices] == ["厨房", "卫生间", "楼道", "其他"]
    assert answers_clean(leak, {"floor": "3", "location": "kitchen"}) == {"floor": "3", "location": "kitchen"}
    with pytest.raises(ValidationFailed):
        answers_clean(leak, {"location": "kitchen"})
    heating = CategoryQuestion.objects.get(category__code="heating-cold")
    assert (heating.code, heating.datatype, heating.required) == ("room_temperature", "number", False)


def test_running_it_again_adds_nothing_and_keeps_back_office_changes(db):
    Category.objects.filter(code="parking").update(response_minutes=30, name="停车")
    CategoryQuestion.objects.filter(category__code="burst-pipe", code="location").delete()
    before = Category.objects.count()
    seed.seed_categories(apps)
    seed.seed_categories(apps)
    assert Category.objects.count() == before
    parking = Category.objects.get(code="parking")
    assert (parking.response_minutes, parking.name) == (30, "停车")
    # A missing question of a seeded category is added back, once.
    assert CategoryQuestion.objects.filter(category__code="burst-pipe").count() == 2


@time_machine.travel(MONDAY_MORNING, tick=False)
def test_a_burst_pipe_is_due_in_a_quarter_of_an_hour_and_a_dark_stairwell_in_seven_working_days(db):
    tree = build_small_tree()
    pipe = ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=tree.household_a1.pk,
            category_code="burst-pipe",
            description="厨房水管爆了，水流到楼道里",
            channel="doorplate",
            answers={"floor": "3", "location": "kitchen"},
        ),
    )
    assert pipe.response_due_at == MONDAY_MORNING + dt.timedelta(minutes=15)
    assert pipe.resolution_due_at == MONDAY_MORNING + dt.timedelta(hours=2)
    light = ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=tree.household_a1.pk,
            category_code="stairwell-light",
            description="三楼楼道灯不亮了",
            channel="doorplate",
        ),
    )
    # Monday 09:00 + 7 working days of 8 hours: the next Tuesday 17:00 (no holiday that week).
    assert light.resolution_due_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
