"""Open311 attributes of every question type, required and optional: the service definition
describes each with a datatype the specification knows, and a post's attribute[CODE] values are
kept as the resident's and staff's answers are, or refused one error each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gongzhi.open311.tests.conftest import BASE, Setup, form, json_of, post, xml_of
from gongzhi.tickets.models import QuestionType, Ticket
from gongzhi.tickets.tests.factories import (
    INVALID_ANSWERS,
    QUESTION_TYPES,
    REQUIRED_CODES,
    STORED_ANSWERS,
    VALID_ANSWERS,
    every_answer,
    make_every_question_category,
)

# The datatypes GeoReport v2 defines; a date travels as a string described as one.
SPECIFICATION_DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


@pytest.fixture
def every(setup: Setup) -> Setup:
    make_every_question_category()
    return setup


def _attributes(answers: dict[str, Any]) -> dict[str, Any]:
    """attribute[CODE]=value, and attribute[CODE][]=… for several values, as clients send them."""
    return {
        (f"attribute[{code}][]" if isinstance(value, list) else f"attribute[{code}]"): value
        for code, value in answers.items()
    }


def _post(client: Client, setup: Setup, answers: dict[str, Any], fmt: str = "json") -> Any:
    fields = form(setup, service_code="every-question", **_attributes(answers))
    del fields["attribute[floor]"]
    return post(client, fmt, **fields)


def test_the_definition_describes_every_type(client: Client, every: Setup) -> None:
    definition = json_of(client.get(f"{BASE}/services/every-question.json"))
    attributes = {attribute["code"]: attribute for attribute in definition["attributes"]}

    assert {a["datatype"] for a in attributes.values()} <= SPECIFICATION_DATATYPES
    for datatype in QUESTION_TYPES:
        for required in (True, False):
            code = f"{datatype}_{'required' if required else 'optional'}"
            attribute = attributes[code]
            shown = "string" if datatype == QuestionType.DATE else datatype
            assert (attribute["datatype"], attribute["required"]) == (shown, required), code
    assert (
        attributes["date_required"]["datatype_description"] == "A date, written YYYY-MM-DD (e.g. 2026-11-20)."
    )
    assert attributes["datetime_required"]["datatype_description"] is None
    assert [v["key"] for v in attributes["singlevaluelist_optional"]["values"]] == ["kitchen", "bath"]
    assert [v["key"] for v in attributes["multivaluelist_required"]["values"]] == ["drip", "mould"]
    assert [a["order"] for a in definition["attributes"]] == list(range(1, 15))
    root = xml_of(client.get(f"{BASE}/services/every-question.xml"))
    assert [a.findtext("datatype") for a in root.iter("attribute")] == [
        attributes[a.findtext("code") or ""]["datatype"] for a in root.iter("attribute")
    ]


def test_a_post_answering_every_type_keeps_each_answer(client: Client, every: Setup) -> None:
    # A client sends moments in W3C form with their offset: kept as the same moment, in Shanghai time.
    sent = every_answer(VALID_ANSWERS) | {"datetime_required": "2026-11-20T00:30:00Z"}
    response = _post(client, every, sent)
    assert response.status_code == 200, response.content
    assert Ticket.objects.get().answers == every_answer(STORED_ANSWERS)


def test_the_optional_attributes_may_be_left_out(client: Client, every: Setup) -> None:
    response = _post(client, every, every_answer(VALID_ANSWERS, optional_too=False), fmt="xml")
    assert response.status_code == 200
    assert Ticket.objects.get().answers == every_answer(STORED_ANSWERS, optional_too=False)


def test_each_missing_required_attribute_is_one_error(client: Client, every: Setup) -> None:
    response = _post(client, every, {})
    assert response.status_code == 400
    assert {error["description"] for error in json_of(response)} == {
        f"attribute[{code}]: This question must be answered: Q {code}" for code in REQUIRED_CODES
    }
    assert not Ticket.objects.exists()


def test_each_invalid_attribute_is_one_error(client: Client, every: Setup) -> None:
    wrong = every_answer({datatype: value for datatype, (value, _message) in INVALID_ANSWERS.items()})
    response = _post(client, every, wrong)
    assert response.status_code == 400
    messages = every_answer({datatype: message for datatype, (_value, message) in INVALID_ANSWERS.items()})
    assert {error["description"] for error in json_of(response)} == {
        f"attribute[{code}]: Q {code}: {message}" for code, message in messages.items()
    }
    assert not Ticket.objects.exists()
