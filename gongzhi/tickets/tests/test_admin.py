"""Back office: categories for superusers and district admins only; tickets read-only for superusers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.models import Role, User
from gongzhi.audit.models import AuditEntry
from gongzhi.core.testing import make_user, superactor
from gongzhi.tickets.admin import duration_words
from gongzhi.tickets.models import Category, CategoryQuestion
from gongzhi.tickets.tests.factories import World, make_world, submit

pytestmark = [pytest.mark.django_db]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def world() -> World:
    return make_world()


def staff_client(user: User) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def root_client() -> Client:
    client = Client()
    user = superactor().user
    assert user is not None
    client.force_login(user)
    return client


def category_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "heating",
        "name": "供暖",
        "kind": "help",
        "order": 10,
        "is_active": "on",
        "default_level": 1,
        "response_minutes": 1440,
        "resolution_minutes": 10080,
        "counting": "calendar",
        "questions-TOTAL_FORMS": 1,
        "questions-INITIAL_FORMS": 0,
        "questions-MIN_NUM_FORMS": 0,
        "questions-MAX_NUM_FORMS": 1000,
        "questions-0-order": 1,
        "questions-0-code": "room",
        "questions-0-prompt": "哪个房间不热",
        "questions-0-datatype": "singlevaluelist",
        "questions-0-choices": '[{"key": "1", "name": "卧室"}, {"key": "2", "name": "客厅"}]',
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("minutes", "words"), [(15, "15 min"), (120, "2 h"), (90, "1.5 h"), (1440, "1 days"), (10080, "7 days")]
)
def test_deadlines_read_in_hours_or_days(minutes: int, words: str) -> None:
    from django.utils import translation

    with translation.override("en"):
        assert duration_words(minutes) == words


def test_a_district_admin_adds_a_category_with_its_questions_audited(world: World) -> None:
    admin = make_user("district", role=Role.DISTRICT_ADMIN, node=world.tree.district)
    client = staff_client(admin)

    listing = client.get("/admin/tickets/category/", **EN)
    response = client.post(
        "/admin/tickets/category/add/", category_post(departments=[world.department.pk]), **EN
    )

    assert listing.status_code == 200
    assert "1 days" in listing.content.decode()
    assert response.status_code == 302, response.content.decode()[:2000]
    category = Category.objects.get(code="heating")
    assert list(category.departments.all()) == [world.department]
    assert CategoryQuestion.objects.get(category=category).choices[1]["name"] == "客厅"
    assert AuditEntry.objects.filter(actor=admin, target_id=str(category.pk)).exists()


def test_a_resolution_before_the_response_is_refused_with_a_message(world: World) -> None:
    response = root_client().post(
        "/admin/tickets/category/add/", category_post(response_minutes=600, resolution_minutes=60), **EN
    )
    assert response.status_code == 200
    assert "cannot come before the response deadline" in response.content.decode()
    assert not Category.objects.filter(code="heating").exists()


def test_a_choice_question_needs_its_choices(world: World) -> None:
    response = root_client().post(
        "/admin/tickets/category/add/", category_post(**{"questions-0-choices": "[]"}), **EN
    )
    assert response.status_code == 200
    assert "A choice question needs its choices" in response.content.decode()
    assert not Category.objects.filter(code="heating").exists()


@pytest.mark.parametrize("role", [Role.COMMUNITY_SECRETARY, Role.GRID_WORKER, Role.AUDITOR])
def test_other_staff_cannot_manage_categories(world: World, role: Role) -> None:
    client = staff_client(make_user("someone", role=role, node=world.tree.community))

    assert client.get("/admin/tickets/category/", **EN).status_code == 403
    assert client.post("/admin/tickets/category/add/", category_post(), **EN).status_code == 403
    assert not Category.objects.filter(code="heating").exists()


def test_tickets_are_read_only_for_superusers_and_hidden_from_others(world: World) -> None:
    ticket = submit(world.tree)
    root = root_client()

    listing = root.get("/admin/tickets/ticket/", **EN)
    page = root.get(f"/admin/tickets/ticket/{ticket.pk}/change/", **EN)

    assert listing.status_code == 200 and ticket.number in listing.content.decode()
    assert page.status_code == 200
    assert "13812345678" not in page.content.decode()
    assert root.get("/admin/tickets/ticket/add/", **EN).status_code == 403
    district = staff_client(make_user("district", role=Role.DISTRICT_ADMIN, node=world.tree.district))
    assert district.get("/admin/tickets/ticket/", **EN).status_code == 403
