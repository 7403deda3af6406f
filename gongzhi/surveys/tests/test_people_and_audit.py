"""Per-person surveys: staff enter paper answers for the resident they find by name or door number
(residents without a phone of their own too), family members sharing a phone each answer once; and
every state change of a survey leaves an audit row."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from gongzhi.audit.models import AuditEntry
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.testing import SmallTree, build_small_tree
from gongzhi.people.models import Person
from gongzhi.surveys.models import SurveyResponse
from gongzhi.surveys.services import AnswerRefused, survey_answer, survey_close, survey_publish_results
from gongzhi.surveys.tests.test_services import DURING, ids, make_survey
from gongzhi.surveys.tests.test_views import EN, answer_post, login, staff_of, text, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    with time_machine.travel(DURING, tick=False):
        yield build_small_tree()


@pytest.fixture
def family(tree: SmallTree) -> dict[str, Person]:
    """张秀英's husband shares her phone; her mother has no phone at all; all live in household A1."""
    return {
        "husband": Person.objects.create(name="王建军", phone=tree.resident_a.phone, home=tree.household_a1),
        "mother": Person.objects.create(name="刘桂兰", phone="", home=tree.household_a1),
    }


# --- Paper answers for a person -------------------------------------------------------------------


def test_staff_enter_a_paper_answer_for_a_resident_without_a_phone(tree: SmallTree, family) -> None:
    staff, survey = make_survey(tree, respondent="person")
    q = ids(survey)
    mother = family["mother"]
    response = survey_answer(survey_id=survey.pk, person_id=mother.pk, answers={q[0]: 1}, actor=staff)
    assert (response.respondent_key, response.household, response.channel) == (
        f"p:{mother.pk}",
        tree.household_a1,
        "paper",
    )
    with translation.override("en"), pytest.raises(AnswerRefused) as twice:
        survey_answer(survey_id=survey.pk, person_id=mother.pk, answers={q[0]: 0}, actor=staff)
    assert str(twice.value.message) == "This resident has already answered this survey."
    # The husband sharing 张秀英's phone answers for himself, on paper too.
    survey_answer(survey_id=survey.pk, person_id=family["husband"].pk, answers={q[0]: 0}, actor=staff)
    for wrong in (None, tree.resident_b.pk):  # nobody chosen, or a resident of another grid
        with pytest.raises(ValidationFailed) as refused:
            survey_answer(survey_id=survey.pk, person_id=wrong, answers={q[0]: 0}, actor=staff)
        assert set(refused.value.extra["fields"]) == {"person"}
    assert SurveyResponse.objects.count() == 2


def test_the_paper_page_finds_residents_by_name_or_door_number(tree: SmallTree, family) -> None:
    _staff, survey = make_survey(tree, respondent="person")
    client = login(staff_of(survey))
    page = text(client.get(f"/surveys/{survey.pk}/paper/?q=刘桂兰", **EN))
    assert "Resident who answered" in page and "刘桂兰" in page and "no phone" in page
    by_door = text(client.get(f"/surveys/{survey.pk}/people/?q=101", **EN))
    assert "张秀英" in by_door and "王建军" in by_door and "刘桂兰" in by_door and "李建国" not in by_door
    post = answer_post(survey) | {"person": str(family["mother"].pk)}
    assert client.post(f"/surveys/{survey.pk}/paper/", post).status_code == 302
    again = text(client.get(f"/surveys/{survey.pk}/people/?q=101", **EN))
    assert "has answered" in again
    outside = client.post(
        f"/surveys/{survey.pk}/paper/", answer_post(survey) | {"person": str(tree.resident_b.pk)}, **EN
    )
    assert outside.status_code == 422 and "Choose the resident who answered, among the residents of" in text(
        outside
    )
    missing = client.post(f"/surveys/{survey.pk}/paper/", answer_post(survey), **EN)
    assert missing.status_code == 422 and SurveyResponse.objects.count() == 1


# --- Shared phones -------------------------------------------------------------------------------


def test_family_members_sharing_a_phone_each_answer_once(tree: SmallTree, family) -> None:
    _staff, survey = make_survey(tree, respondent="person")
    q = ids(survey)
    phone = tree.resident_a.phone
    with pytest.raises(AnswerRefused) as choose:
        survey_answer(survey_id=survey.pk, phone=phone, answers={q[0]: 0})
    assert choose.value.code == "choose_person"
    with pytest.raises(AnswerRefused):  # the mother has no phone: not among those sharing this one
        survey_answer(survey_id=survey.pk, phone=phone, person_id=family["mother"].pk, answers={q[0]: 0})
    survey_answer(survey_id=survey.pk, phone=phone, person_id=tree.resident_a.pk, answers={q[0]: 0})
    survey_answer(survey_id=survey.pk, phone=phone, person_id=family["husband"].pk, answers={q[0]: 1})
    with pytest.raises(AnswerRefused) as twice:
        survey_answer(survey_id=survey.pk, phone=phone, person_id=family["husband"].pk, answers={q[0]: 1})
    assert twice.value.code == "already_answered"
    assert set(SurveyResponse.objects.values_list("respondent_key", flat=True)) == {
        f"p:{tree.resident_a.pk}",
        f"p:{family['husband'].pk}",
    }


def test_a_shared_phone_in_one_home_needs_no_choice_for_a_household_survey(tree: SmallTree, family) -> None:
    _staff, survey = make_survey(tree, respondent="household")
    response = survey_answer(survey_id=survey.pk, phone=tree.resident_a.phone, answers={ids(survey)[0]: 0})
    assert response.respondent_key == f"h:{tree.household_a1.pk}"


def test_the_phone_page_asks_who_is_answering(tree: SmallTree, family) -> None:
    _staff, survey = make_survey(tree, respondent="person")
    client = verified(tree.resident_a.phone)
    page = text(client.get(f"/s/{survey.pk}/", **EN))
    assert "Who is answering?" in page and "张*英" in page and "王*军" in page and "刘*兰" not in page
    unchosen = client.post(f"/s/{survey.pk}/", answer_post(survey), **EN)
    assert unchosen.status_code == 409 and "choose who is answering" in text(unchosen)
    assert 'id="survey-form"' in text(unchosen)  # the form stays, with the answers given
    chosen = client.post(f"/s/{survey.pk}/", answer_post(survey) | {"person": str(family["husband"].pk)})
    assert chosen.status_code == 302
    page = text(client.get(f"/s/{survey.pk}/", **EN))
    assert "has answered" in page
    assert SurveyResponse.objects.get().respondent_key == f"p:{family['husband'].pk}"


def test_no_choice_is_offered_to_a_phone_of_one_resident(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree, respondent="person")
    page = text(verified(tree.resident_a.phone).get(f"/s/{survey.pk}/", **EN))
    assert "Who is answering?" not in page


# --- The audit trail ----------------------------------------------------------------------------


def test_survey_state_changes_leave_audit_rows(tree: SmallTree) -> None:
    staff, survey = make_survey(tree)
    survey_publish_results(actor=staff, survey_id=survey.pk, published=True)
    survey_publish_results(actor=staff, survey_id=survey.pk, published=True)  # no change, no row
    survey_close(actor=staff, survey_id=survey.pk, note="提前收齐")
    with pytest.raises(AnswerRefused):
        survey_close(actor=staff, survey_id=survey.pk)
    rows = AuditEntry.objects.filter(target_type="surveys.survey", target_id=str(survey.pk)).order_by("pk")
    assert [
        (r.field, r.changes.get("status") or r.changes.get("results_published"), r.reason) for r in rows
    ] == [
        ("status", [None, "draft"], ""),
        ("status", ["draft", "open"], ""),
        ("results_published", [False, True], ""),
        ("status", ["open", "closed"], "提前收齐"),
    ]
    assert {r.actor_id for r in rows} == {staff.user.pk}
    assert Client().get(f"/s/{survey.pk}/").status_code == 200
