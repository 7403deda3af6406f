"""Fixtures for the Open311 tests: a small tree with points, categories with questions, a key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from gongzhi.core.testing import SmallTree, build_small_tree
from gongzhi.open311.services import open311_key_issue
from gongzhi.territory.models import Node, Organization, OrganizationKind
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType

BASE = "/open311/v2"


@dataclass
class Setup:
    tree: SmallTree
    category: Category  # "leaky-roof": a required number, a single and a multiple choice
    key: str
    organization: Organization


def make_category() -> Category:
    category = Category.objects.create(
        code="leaky-roof",
        name="屋顶漏雨",
        description="楼顶防水层破损、下雨天漏水",
        group="房屋",
        keywords="漏雨 屋顶 防水",
        response_minutes=120,
        resolution_minutes=3 * 24 * 60,
    )
    CategoryQuestion.objects.create(
        category=category,
        code="floor",
        prompt="哪一层？",
        datatype=QuestionType.NUMBER,
        required=True,
        order=1,
    )
    CategoryQuestion.objects.create(
        category=category,
        code="room",
        prompt="哪个房间？",
        description="选一个",
        datatype=QuestionType.SINGLE,
        choices=[{"key": "kitchen", "name": "厨房"}, {"key": "bath", "name": "卫生间"}],
        order=2,
    )
    CategoryQuestion.objects.create(
        category=category,
        code="signs",
        prompt="看到了什么？",
        datatype=QuestionType.MULTIPLE,
        choices=[
            {"key": "drip", "name": "滴水"},
            {"key": "mould", "name": "发霉"},
            {"key": "crack", "name": "裂缝"},
        ],
        order=3,
    )
    return category


@pytest.fixture
def setup(db: Any) -> Setup:
    tree = build_small_tree()
    Node.objects.filter(pk=tree.building_a.pk).update(
        latitude=Decimal("35.550000"), longitude=Decimal("116.830000")
    )
    Node.objects.filter(pk=tree.building_b.pk).update(
        latitude=Decimal("35.560000"), longitude=Decimal("116.840000")
    )
    organization = Organization.objects.create(
        code="app-12345", name="兖州12345热线", kind=OrganizationKind.CO_BUILDING_UNIT
    )
    issued = open311_key_issue(actor=None, name="12345 app", organization_id=organization.pk)
    return Setup(tree=tree, category=make_category(), key=issued.secret, organization=organization)


def post(client: Client, fmt: str = "json", **fields: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", fields)


def form(setup: Setup, **overrides: Any) -> dict[str, Any]:
    """A valid post: leaky-roof at household 101 with its required answer."""
    fields: dict[str, Any] = {
        "api_key": setup.key,
        "service_code": "leaky-roof",
        "address_id": setup.tree.household_a1.code,
        "attribute[floor]": "6",
        "description": "顶楼卫生间天花板漏雨，墙皮脱落",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def xml_of(response: Any) -> ElementTree.Element:
    """Parse an XML answer (proves it is well-formed) after checking its type and declaration."""
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)


def json_of(response: Any) -> Any:
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


@pytest.fixture
def client() -> Client:
    """Answers in English (the interface's default is zh-hans)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")
