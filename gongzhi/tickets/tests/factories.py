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


# --- A category asking every kind of question, each once required and once optional ---------------

QUESTION_TYPES = [choice.value for choice in QuestionType]
CHOICES = [{"key": "kitchen", "name": "厨房"}, {"key": "bath", "name": "卫生间"}]
SIGNS = [{"key": "drip", "name": "滴水"}, {"key": "mould", "name": "发霉"}]
# A valid answer per type as a browser or client sends it, and as it is stored.
VALID_ANSWERS: dict[str, Any] = {
    QuestionType.STRING: "一单元楼梯口",
    QuestionType.TEXT: "第一行\n第二行",
    QuestionType.NUMBER: "3.5",
    QuestionType.DATE: "2026-11-20",
    QuestionType.DATETIME: "2026-11-20T08:30",  # a browser's date-time field: local, no offset
    QuestionType.SINGLE: "bath",
    QuestionType.MULTIPLE: ["drip", "mould"],
}
STORED_ANSWERS: dict[str, Any] = {
    **VALID_ANSWERS,
    QuestionType.DATETIME: "2026-11-20T08:30:00+08:00",  # a moment keeps its offset
}
# An invalid answer per type, and the words of the message it gets.
INVALID_ANSWERS: dict[str, tuple[Any, str]] = {
    QuestionType.STRING: ("长" * 201, "Keep the answer under 200 characters."),
    QuestionType.TEXT: ("长" * 2001, "Keep the answer under 2000 characters."),
    QuestionType.NUMBER: ("三楼", "Enter a number."),
    QuestionType.DATE: ("2026-11-20T08:30", "Enter a date, e.g. 2026-11-20."),  # a moment is not a day
    QuestionType.DATETIME: ("明天早上", "Enter a date and time, e.g. 2026-11-20 08:30."),
    QuestionType.SINGLE: ("garage", "Choose from the listed answers."),
    QuestionType.MULTIPLE: (["drip", "garage"], "Choose from the listed answers."),
}


def question_code(datatype: str, required: bool) -> str:
    return f"{datatype}_{'required' if required else 'optional'}"


def make_every_question_category(code: str = "every-question", **fields: Any) -> Category:
    """A category with one question of each type required and one optional (codes `<type>_required`
    and `<type>_optional`), prompts "Q <code>"."""
    category = make_category(code, name="样样都问", keywords="样样", **fields)
    order = 0
    for datatype in QUESTION_TYPES:
        for required in (True, False):
            order += 1
            CategoryQuestion.objects.create(
                category=category,
                code=question_code(datatype, required),
                prompt=f"Q {question_code(datatype, required)}",
                datatype=datatype,
                required=required,
                choices={QuestionType.SINGLE: CHOICES, QuestionType.MULTIPLE: SIGNS}.get(datatype, []),
                order=order,
            )
    return category


def every_answer(answers: dict[str, Any], *, optional_too: bool = True) -> dict[str, Any]:
    """Per-type `answers` keyed by the category's question codes (required ones, and optional ones)."""
    keyed = {question_code(t, True): value for t, value in answers.items()}
    if optional_too:
        keyed |= {question_code(t, False): value for t, value in answers.items()}
    return keyed


REQUIRED_CODES = frozenset(question_code(t, True) for t in QUESTION_TYPES)
