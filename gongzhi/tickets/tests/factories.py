"""Test data for tickets: categories, departments and a submitted ticket, made through the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.scope import Actor, resolve_actor
from gongzhi.core.testing import SmallTree, build_small_tree, make_user
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.deadlines import Counting
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType, Ticket
from gongzhi.tickets.services.intake import TicketInput, ticket_submit


def make_category(code: str = "leak", **fields: Any) -> Category:
    defaults: dict[str, Any] = {
        "name": "漏水",
        "keywords": "漏水 渗水 滴水",
        "response_minutes": 60,
        "resolution_minutes": 24 * 60,
        "counting": Counting.CALENDAR,
    }
    defaults.update(fields)
    return Category.objects.create(code=code, **defaults)


def make_department(name: str = "城管局", code: str = "dept-cg") -> Organization:
    return Organization.objects.create(code=code, name=name, kind=OrganizationKind.DEPARTMENT)


def submit(tree: SmallTree, *, node: Any = None, category: str = "leak", **fields: Any) -> Ticket:
    data = TicketInput(
        node_id=(node or tree.household_a1).pk,
        category_code=category,
        description=fields.pop("description", "楼上卫生间漏水，天花板在滴水"),
        channel=fields.pop("channel", "doorplate"),
        reporter_phone=fields.pop("reporter_phone", "13812345678"),
        **fields,
    )
    return ticket_submit(actor=fields.get("actor"), data=data)


@dataclass
class World:
    tree: SmallTree
    category: Category
    department: Organization
    worker_a: User
    worker_b: User
    community_staff: User
    subdistrict_staff: User
    handler: User

    def actor(self, user: User) -> Actor:
        return resolve_actor(user)


def make_world() -> World:
    tree = build_small_tree()
    category = make_category()
    CategoryQuestion.objects.create(
        category=category, code="floor", prompt="哪一层", datatype=QuestionType.NUMBER, required=False
    )
    department = make_department()
    category.departments.add(department)
    return World(
        tree=tree,
        category=category,
        department=department,
        worker_a=make_user("worker_a", role=Role.GRID_WORKER, node=tree.grid_a),
        worker_b=make_user("worker_b", role=Role.GRID_WORKER, node=tree.grid_b),
        community_staff=make_user("community", role=Role.COMMUNITY_STAFF, node=tree.community),
        subdistrict_staff=make_user("subdistrict", role=Role.SUBDISTRICT_STAFF, node=tree.subdistrict),
        handler=make_user("handler", role=Role.DEPARTMENT_HANDLER, organization=department),
    )
