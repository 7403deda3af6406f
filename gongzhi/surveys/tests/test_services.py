"""Surveys through the services: one answer per person or household, refusals, counters = recount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.testing import SmallTree, build_small_tree, make_user
from gongzhi.people.models import Person
from gongzhi.surveys.models import OptionCount, SurveyResponse
from gongzhi.surveys.selectors import survey_results
from gongzhi.surveys.services import (
    AnswerRefused,
    QuestionSpec,
    survey_answer,
    survey_create,
    survey_open,
    survey_recount,
)

OPENS = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
CLOSES = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
DURING = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)

QUESTIONS = [
    QuestionSpec("single", "您是否同意小区集中供暖改造？", ["同意", "不同意", "无所谓"]),
    QuestionSpec("multiple", "您最关心哪些问题？", ["费用", "工期", "安全", "噪音"], required=False),
    QuestionSpec("rating", "您对目前冬季室温的满意程度", required=False),
    QuestionSpec("text", "其他意见建议", required=False),
]


def make_survey(tree: SmallTree, respondent: str = "household"):
    staff = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    survey = survey_create(
        actor=staff,
        node_id=tree.grid_a.pk,
        title="鼓楼花园供暖意愿调查",
        respondent=respondent,
        opens_at=OPENS,
        closes_at=CLOSES,
        questions=QUESTIONS,
    )
    return staff, survey_open(actor=staff, survey_id=survey.pk)


def ids(survey) -> list[int]:
    return list(survey.questions.values_list("pk", flat=True))


@pytest.fixture
def tree():
    with time_machine.travel(DURING, tick=False):
        yield build_small_tree()


@pytest.mark.django_db
def test_one_answer_per_household(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    q = ids(survey)
    spouse = Person.objects.create(name="王秀兰", phone="13912345678", home=tree.household_a1)
    survey_answer(
        survey_id=survey.pk,
        phone=tree.resident_a.phone,
        answers={q[0]: 0, q[1]: [0, 2], q[2]: 4, q[3]: "希望早点供暖"},
    )
    with pytest.raises(AnswerRefused) as error:
        survey_answer(survey_id=survey.pk, phone=spouse.phone, answers={q[0]: 1})
    assert error.value.code == "already_answered"
    results = survey_results(survey)
    assert results.responses == 1
    assert [o.count for o in results.questions[0].options] == [1, 0, 0]
    assert results.questions[0].options[0].percent == Decimal("100.0")
    assert [o.count for o in results.questions[1].options] == [1, 0, 1, 0]
    assert results.questions[2].average == Decimal("4.00")
    assert results.questions[3].texts == ["希望早点供暖"]


@pytest.mark.django_db
def test_one_answer_per_person_lets_the_spouse_answer(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree, respondent="person")
    q = ids(survey)
    spouse = Person.objects.create(name="王秀兰", phone="13912345678", home=tree.household_a1)
    survey_answer(survey_id=survey.pk, phone=tree.resident_a.phone, answers={q[0]: 0})
    survey_answer(survey_id=survey.pk, phone=spouse.phone, answers={q[0]: 1})
    with pytest.raises(AnswerRefused):
        survey_answer(survey_id=survey.pk, phone=spouse.phone, answers={q[0]: 1})
    assert survey_results(survey).responses == 2


@pytest.mark.django_db
def test_refusals_change_nothing(tree: SmallTree) -> None:
    staff, survey = make_survey(tree)
    q = ids(survey)
    with pytest.raises(AnswerRefused) as error:  # a phone of nobody registered in the grid
        survey_answer(survey_id=survey.pk, phone="13700000000", answers={q[0]: 0})
    assert error.value.code == "not_a_resident"
    with pytest.raises(AnswerRefused):  # resident of grid B
        survey_answer(survey_id=survey.pk, phone=tree.resident_b.phone, answers={q[0]: 0})
    with pytest.raises(ValidationFailed) as invalid:
        survey_answer(survey_id=survey.pk, phone=tree.resident_a.phone, answers={q[1]: [9]})
    assert set(invalid.value.extra["fields"]) == {f"question_{q[0]}", f"question_{q[1]}"}
    with pytest.raises(ValidationFailed) as outside:  # a household outside the survey's node
        survey_answer(survey_id=survey.pk, household_id=tree.household_b1.pk, answers={q[0]: 0}, actor=staff)
    assert set(outside.value.extra["fields"]) == {"household"}
    with time_machine.travel(CLOSES, tick=False), pytest.raises(AnswerRefused):
        survey_answer(survey_id=survey.pk, phone=tree.resident_a.phone, answers={q[0]: 0})
    assert not SurveyResponse.objects.exists() and not OptionCount.objects.exists()


@pytest.mark.django_db
def test_staff_enter_paper_answers_for_a_household(tree: SmallTree) -> None:
    staff, survey = make_survey(tree)
    q = ids(survey)
    response = survey_answer(
        survey_id=survey.pk, household_id=tree.household_a2.pk, answers={q[0]: 2}, actor=staff
    )
    assert response.channel == "paper" and response.entered_by == staff.user
    outsider = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_b))
    with pytest.raises(NotFound):
        survey_answer(
            survey_id=survey.pk, household_id=tree.household_a1.pk, answers={q[0]: 2}, actor=outsider
        )


@pytest.mark.django_db
def test_a_survey_needs_sound_questions(tree: SmallTree) -> None:
    staff = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    with pytest.raises(ValidationFailed) as error:
        survey_create(
            actor=staff,
            node_id=tree.grid_a.pk,
            title="调查",
            respondent="household",
            opens_at=OPENS,
            closes_at=CLOSES,
            questions=[QuestionSpec("single", "同意吗", ["同意"])],
        )
    assert "question_1" in error.value.extra["fields"]


answers = st.lists(
    st.tuples(
        st.integers(0, 2), st.lists(st.integers(0, 3), max_size=4), st.one_of(st.none(), st.integers(1, 5))
    ),
    min_size=1,
    max_size=12,
)


class CountersMatchTheAnswers(TestCase):
    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers)
    def test_counters_equal_a_recount_and_a_brute_force_count(self, given_answers) -> None:
        with time_machine.travel(DURING, tick=False):
            tree = build_small_tree()
            _staff, survey = make_survey(tree, respondent="person")
            q = ids(survey)
            expected: dict[tuple[int, int], int] = {}
            for number, (single, multiple, rating) in enumerate(given_answers):
                phone = f"1390000{number:04d}"
                Person.objects.create(name=f"居民{number}", phone=phone, home=tree.household_a1)
                survey_answer(
                    survey_id=survey.pk, phone=phone, answers={q[0]: single, q[1]: multiple, q[2]: rating}
                )
                for key in (
                    [(q[0], single)]
                    + [(q[1], m) for m in set(multiple)]
                    + ([(q[2], rating)] if rating else [])
                ):
                    expected[key] = expected.get(key, 0) + 1
            live = {(c.question_id, c.option): c.count for c in OptionCount.objects.all()}
            assert live == expected
            survey_recount(survey_id=survey.pk)
            assert {(c.question_id, c.option): c.count for c in OptionCount.objects.all()} == expected
            assert survey_results(survey).responses == len(given_answers)
