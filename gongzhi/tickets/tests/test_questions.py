"""A category's extra questions of every type, required and optional: the resident's form and the
staff intake ask them with the right field, keep valid answers as stored values, and put each
refusal next to its question. (Open311 attributes: gongzhi/open311/tests/test_attributes.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.core.errors import ValidationFailed
from gongzhi.doorplates.services import doorplate_for
from gongzhi.tickets.models import Category, QuestionType, Ticket
from gongzhi.tickets.services.answers import answers_clean
from gongzhi.tickets.tests.factories import (
    INVALID_ANSWERS,
    QUESTION_TYPES,
    REQUIRED_CODES,
    STORED_ANSWERS,
    VALID_ANSWERS,
    World,
    every_answer,
    make_every_question_category,
    make_world,
)
from gongzhi.tickets.tests.test_resident_views import EN, verify_phone
from gongzhi.tickets.tests.test_views_staff import Browser

pytestmark = pytest.mark.django_db
MUST = "This question must be answered: Q {code}"
# The field each type gets, in the resident's form and in the staff intake.
WIDGETS = {
    QuestionType.STRING: r'<input type="text" name="answer_{code}"',
    QuestionType.TEXT: r'<textarea name="answer_{code}"',
    QuestionType.NUMBER: r'<input type="text" name="answer_{code}"[^>]*inputmode="decimal"',
    QuestionType.DATE: r'<input type="date" name="answer_{code}"',
    QuestionType.DATETIME: r'<input type="datetime-local" name="answer_{code}"',
    QuestionType.SINGLE: r'<input type="radio" name="answer_{code}" value="kitchen"',
    QuestionType.MULTIPLE: r'<input type="checkbox" name="answer_{code}" value="drip"',
}
STAFF_WIDGETS = {
    QuestionType.STRING: r'name="answer_{code}" type="text"',
    QuestionType.TEXT: r'<textarea id="id_answer_{code}" name="answer_{code}"',
    QuestionType.NUMBER: r'name="answer_{code}" type="number"',
    QuestionType.DATE: r'name="answer_{code}" type="date"',
    QuestionType.DATETIME: r'name="answer_{code}" type="datetime-local"',
    QuestionType.SINGLE: r'<select id="id_answer_{code}" name="answer_{code}"',
    QuestionType.MULTIPLE: r'type="checkbox" name="answer_{code}" value="drip"',
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The service's messages in English, as the pages get them with Accept-Language: en."""
    with translation.override("en"):
        yield


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def category(world: World) -> Category:
    return make_every_question_category()


def _posted(answers: dict[str, Any]) -> dict[str, Any]:
    return {f"answer_{code}": value for code, value in answers.items()}


def _all_codes(required: bool | None = None) -> set[str]:
    codes = set(every_answer(VALID_ANSWERS))
    return codes if required is None else {c for c in codes if (c in REQUIRED_CODES) == required}


# --- The service: the one judge -------------------------------------------------------------------


def test_every_type_is_stored_in_its_own_form(category: Category) -> None:
    assert answers_clean(category, every_answer(VALID_ANSWERS)) == every_answer(STORED_ANSWERS)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-11-20T08:30", "2026-11-20T08:30:00+08:00"),  # the browser's field: Shanghai time
        ("2026-11-20 08:30", "2026-11-20T08:30:00+08:00"),
        ("2026-11-20T00:30:00Z", "2026-11-20T08:30:00+08:00"),  # a client's UTC moment
        ("2026-11-20T08:30:00+09:00", "2026-11-20T07:30:00+08:00"),
        ("2026-11-20", "2026-11-20T00:00:00+08:00"),  # a day alone: its midnight here
    ],
)
def test_a_moment_is_kept_with_its_offset_in_shanghai_time(
    category: Category, given: str, stored: str
) -> None:
    answers = answers_clean(category, every_answer(VALID_ANSWERS) | {"datetime_required": given})
    assert answers["datetime_required"] == stored


@pytest.mark.parametrize("given", ["2026-02-30", "2026-11-20T08:30", "20261120", "2026/11/20", "明天"])
def test_a_date_is_a_calendar_day_and_nothing_else(category: Category, given: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        answers_clean(category, every_answer(VALID_ANSWERS) | {"date_required": given})
    assert refused.value.extra["fields"] == {
        "date_required": "Q date_required: Enter a date, e.g. 2026-11-20."
    }


def test_unanswered_required_questions_are_refused_and_optional_ones_may_stay_empty(
    category: Category,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        answers_clean(category, dict.fromkeys(_all_codes(), "") | {"multivaluelist_required": []})
    assert refused.value.extra["fields"] == {code: MUST.format(code=code) for code in REQUIRED_CODES}
    required_only = every_answer(VALID_ANSWERS, optional_too=False)
    assert answers_clean(category, required_only) == every_answer(STORED_ANSWERS, optional_too=False)


# --- The resident's form ---------------------------------------------------------------------------


@pytest.fixture
def resident(world: World, category: Category) -> tuple[Client, str]:
    client = Client(**EN)
    token = doorplate_for(world.tree.building_a).token
    verify_phone(client, token)
    return client, token


def _resident_post(resident: tuple[Client, str], answers: dict[str, Any]) -> Any:
    client, token = resident
    data = {
        "description": "样样都问的测试",
        "category": "every-question",
        "submit_key": f"key-{len(answers)}-{sorted(answers)[:1]}",
        **_posted(answers),
    }
    return client.post(f"/d/{token}/new/help/", data)


def test_the_resident_is_asked_every_type_with_its_own_field(resident: tuple[Client, str]) -> None:
    client, token = resident
    page = client.get(f"/d/{token}/new/help/questions/?category=every-question", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    for datatype in QUESTION_TYPES:
        for required in ("required", "optional"):
            code = f"{datatype}_{required}"
            assert re.search(WIDGETS[datatype].format(code=code), html), code
    assert html.count("(required)") == len(REQUIRED_CODES)


def test_the_resident_s_answers_of_every_type_are_kept(resident: tuple[Client, str]) -> None:
    response = _resident_post(resident, every_answer(VALID_ANSWERS))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Ticket.objects.get().answers == every_answer(STORED_ANSWERS)


def test_the_resident_may_leave_the_optional_questions_empty(resident: tuple[Client, str]) -> None:
    response = _resident_post(resident, every_answer(VALID_ANSWERS, optional_too=False))
    assert response.status_code == 302
    assert Ticket.objects.get().answers == every_answer(STORED_ANSWERS, optional_too=False)


def test_the_resident_sees_each_missing_answer_next_to_its_question(resident: tuple[Client, str]) -> None:
    response = _resident_post(resident, {})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {name: list(messages) for name, messages in errors.items()} == {
        f"answer_{code}": [MUST.format(code=code)] for code in REQUIRED_CODES
    }
    assert not Ticket.objects.exists()


def test_the_resident_sees_each_wrong_answer_next_to_its_question(resident: tuple[Client, str]) -> None:
    wrong = {datatype: value for datatype, (value, _message) in INVALID_ANSWERS.items()}
    response = _resident_post(resident, every_answer(wrong))
    assert response.status_code == 422
    errors = response.context["form"].errors
    expected = every_answer({t: f"{message}" for t, (_value, message) in INVALID_ANSWERS.items()})
    assert {name: list(messages) for name, messages in errors.items()} == {
        f"answer_{code}": [f"Q {code}: {message}"] for code, message in expected.items()
    }
    page = response.content.decode()
    assert 'value="三楼"' in page and "明天早上" in page  # what was typed stays
    assert not Ticket.objects.exists()


# --- The staff intake ------------------------------------------------------------------------------


def _staff_post(world: World, answers: dict[str, Any]) -> Any:
    data = {
        "node": world.tree.household_a1.pk,
        "channel": "doorstep",
        "category": "every-question",
        "description": "样样都问的测试",
        "submit_key": f"k{len(answers)}",
        **_posted(answers),
    }
    return Browser(world.worker_a).post("/tickets/new/", data)


def _row_errors(response: Any) -> dict[str, str]:
    return {row["question"].code: row["error"] for row in response.context["question_rows"] if row["error"]}


def test_staff_are_asked_every_type_with_its_own_field(world: World, category: Category) -> None:
    html = Browser(world.worker_a).get("/tickets/new/questions/?category=every-question").content.decode()
    for datatype in QUESTION_TYPES:
        for required in ("required", "optional"):
            code = f"{datatype}_{required}"
            assert re.search(STAFF_WIDGETS[datatype].format(code=code), html), code
    assert html.count('<span aria-hidden="true">*</span>') == len(REQUIRED_CODES)


def test_staff_answers_of_every_type_are_kept(world: World, category: Category) -> None:
    response = _staff_post(world, every_answer(VALID_ANSWERS))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.answers == every_answer(STORED_ANSWERS)
    detail = Browser(world.worker_a).get(f"/tickets/{ticket.number}/").content.decode()
    assert "2026-11-20 08:30" in detail and "卫生间" in detail and "滴水、发霉" in detail


def test_staff_may_leave_the_optional_questions_empty(world: World, category: Category) -> None:
    assert _staff_post(world, every_answer(VALID_ANSWERS, optional_too=False)).status_code == 302
    assert Ticket.objects.get().answers == every_answer(STORED_ANSWERS, optional_too=False)


def test_staff_see_each_missing_or_wrong_answer_next_to_its_question(
    world: World, category: Category
) -> None:
    missing = _staff_post(world, {})
    wrong = _staff_post(world, every_answer({t: value for t, (value, _m) in INVALID_ANSWERS.items()}))

    assert missing.status_code == wrong.status_code == 422
    assert _row_errors(missing) == {code: MUST.format(code=code) for code in REQUIRED_CODES}
    assert _row_errors(wrong) == {
        code: f"Q {code}: {message}"
        for code, message in every_answer({t: m for t, (_v, m) in INVALID_ANSWERS.items()}).items()
    }
    assert not Ticket.objects.exists()
