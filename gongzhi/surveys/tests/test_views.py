"""The survey pages: staff (scoped), question rows, results with charts, xlsx export, paper answers,
and the residents' answer page. Every refusal is shown in plain words and adds no row."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from gongzhi.accounts.models import Role
from gongzhi.core.testing import SmallTree, build_small_tree, make_user
from gongzhi.people.models import Person
from gongzhi.phones.services import SESSION_KEY
from gongzhi.surveys.models import OptionCount, Survey, SurveyResponse, SurveyStatus
from gongzhi.surveys.tests.test_services import CLOSES, DURING, ids, make_survey

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def clock():
    with time_machine.travel(DURING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tree(clock) -> SmallTree:
    return build_small_tree()


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def verified(phone: str, at: dt.datetime = DURING) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = {"phone": phone, "until": (at + dt.timedelta(minutes=30)).isoformat()}
    session.save()
    return client


def staff_of(survey: Survey):
    return survey.created_by


def answer_post(survey: Survey) -> dict:
    q = ids(survey)
    return {
        f"answer-{q[0]}": "0",
        f"answer-{q[1]}": ["0", "2"],
        f"answer-{q[2]}": "4",
        f"answer-{q[3]}": "希望早点供暖",
    }


# --- Staff ----------------------------------------------------------------------------------------


def test_out_of_scope_staff_get_404_and_change_nothing(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    outsider = login(make_user("grid-b", role=Role.GRID_WORKER, node=tree.grid_b))
    for url in (
        f"/surveys/{survey.pk}/",
        f"/surveys/{survey.pk}/results/",
        f"/surveys/{survey.pk}/export.xlsx",
        f"/surveys/{survey.pk}/paper/",
        f"/surveys/{survey.pk}/households/?q=101",
        f"/surveys/{survey.pk}/qr.svg",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/surveys/{survey.pk}/close/").status_code == 404
    assert outsider.post(f"/surveys/{survey.pk}/publish/", {"published": "1"}).status_code == 404
    post = answer_post(survey) | {"household": str(tree.household_a1.pk)}
    assert outsider.post(f"/surveys/{survey.pk}/paper/", post).status_code == 404
    survey.refresh_from_db()
    assert (survey.status, survey.results_published) == (SurveyStatus.OPEN, False)
    assert not SurveyResponse.objects.exists()
    assert survey.title not in text(outsider.get("/surveys/"))


def test_staff_add_and_remove_question_rows_and_create_a_survey(tree: SmallTree) -> None:
    client = login(make_user("grid-a", role=Role.GRID_WORKER, node=tree.grid_a))
    page = text(client.get("/surveys/new/", **EN))
    assert "Question 1" in page and "Question 2" not in page
    base = {
        "node": tree.grid_a.pk,
        "title": "鼓楼花园供暖意愿调查",
        "respondent": "household",
        "opens_at": "2026-03-05T09:00",
        "closes_at": "2026-03-20T18:00",
        "rows": "2",
        "q-0-kind": "single",
        "q-0-prompt": "您是否同意集中供暖改造？",
        "q-0-options": "同意\n不同意\n无所谓",
        "q-0-required": "on",
        "q-1-kind": "text",
        "q-1-prompt": "其他意见",
    }
    added = client.post("/surveys/new/", base | {"action": "add"}, **EN)
    assert added.status_code == 200 and "Question 3" in text(added) and "同意" in text(added)
    removed = client.post("/surveys/new/", base | {"action": "remove-1"}, **EN)
    assert "Question 2" not in text(removed) and "其他意见" not in text(removed)
    assert Survey.objects.count() == 0
    bad = client.post("/surveys/new/", base | {"q-0-options": "同意", "action": "create"}, **EN)
    assert bad.status_code == 422 and "A choice question needs 2 to 20 different options." in text(bad)
    assert Survey.objects.count() == 0
    created = client.post("/surveys/new/", base | {"action": "create"})
    assert created.status_code == 302
    survey = Survey.objects.get()
    assert [(q.kind, q.options, q.required) for q in survey.questions.all()] == [
        ("single", ["同意", "不同意", "无所谓"], True),
        ("text", [], False),
    ]


def test_open_close_and_publish(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    client = login(staff_of(survey))
    client.post(f"/surveys/{survey.pk}/publish/", {"published": "1"})
    survey.refresh_from_db()
    assert survey.results_published
    client.post(f"/surveys/{survey.pk}/close/")
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    again = client.post(f"/surveys/{survey.pk}/close/", follow=True, **EN)
    assert "cannot become" in text(again)


def test_live_results_show_a_chart_and_a_table_under_it(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    verified(tree.resident_a.phone).post(f"/s/{survey.pk}/", answer_post(survey))
    page = text(login(staff_of(survey)).get(f"/surveys/{survey.pk}/", **EN))
    assert "vendor/echarts/echarts.min.js" in page
    assert page.count('class="chart"') == 3  # single, multiple, rating; the free text has none
    assert 'hx-trigger="every 5s"' in page and "1 response" in page
    assert '<th scope="row">同意</th><td class="num">1</td><td class="num">100.0%</td>' in page
    assert "希望早点供暖" in page
    partial = text(login(staff_of(survey)).get(f"/surveys/{survey.pk}/results/", **EN))
    assert "<html" not in partial and "survey-chart-data" in partial


def test_the_xlsx_export_has_the_counts_and_no_personal_data(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    verified(tree.resident_a.phone).post(f"/s/{survey.pk}/", answer_post(survey))
    response = login(staff_of(survey)).get(f"/surveys/{survey.pk}/export.xlsx", **EN)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Summary", "Results", "Answers"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Survey"] == "鼓楼花园供暖意愿调查" and summary["Responses"] == 1
    results = list(book["Results"].iter_rows(values_only=True))
    assert (1, "您是否同意小区集中供暖改造？", "Single choice", "同意", 1, 1.0) in results
    assert (3, "您对目前冬季室温的满意程度", "Rating (1–5)", "Average rating", 4.0, None) in results
    answers = list(book["Answers"].iter_rows(values_only=True))
    assert answers[1] == (1, "2026-03-05", "On a phone", "同意", "费用、安全", 4, "希望早点供暖")
    everything = " ".join(
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row
    )
    key = SurveyResponse.objects.get().respondent_key
    for personal in (key, tree.resident_a.phone, tree.resident_a.name, tree.household_a1.name, "h:"):
        assert personal not in everything


def test_staff_enter_paper_answers_and_a_household_answers_once(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    client = login(staff_of(survey))
    page = text(client.get(f"/surveys/{survey.pk}/paper/?q=102", **EN))
    assert f'value="{tree.household_a2.pk}"' in page
    post = answer_post(survey) | {"household": str(tree.household_a2.pk)}
    assert client.post(f"/surveys/{survey.pk}/paper/", post).status_code == 302
    response = SurveyResponse.objects.get()
    assert response.channel == "paper" and response.household_id == tree.household_a2.pk
    counts = OptionCount.objects.count()
    twice = client.post(f"/surveys/{survey.pk}/paper/", post, **EN)
    assert twice.status_code == 422 and "This household has already answered this survey." in text(twice)
    assert SurveyResponse.objects.count() == 1 and OptionCount.objects.count() == counts
    missing = client.post(f"/surveys/{survey.pk}/paper/", answer_post(survey), **EN)
    assert missing.status_code == 422 and "Choose the household" in text(missing)
    outside = client.post(
        f"/surveys/{survey.pk}/paper/", answer_post(survey) | {"household": str(tree.household_b1.pk)}, **EN
    )
    assert outside.status_code == 422 and SurveyResponse.objects.count() == 1


# --- Residents ------------------------------------------------------------------------------------


def test_a_resident_answers_on_a_phone_and_the_household_only_once(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    assert "First, confirm your phone" in text(Client().get(f"/s/{survey.pk}/", **EN))
    client = verified(tree.resident_a.phone)
    page = text(client.get(f"/s/{survey.pk}/", **EN))
    assert "您是否同意小区集中供暖改造？" in page and "5 stars" in page
    missing = client.post(f"/s/{survey.pk}/", {}, **EN)
    assert missing.status_code == 422 and "Please answer this question." in text(missing)
    assert not SurveyResponse.objects.exists()
    sent = client.post(f"/s/{survey.pk}/", answer_post(survey))
    assert sent.status_code == 302 and sent["Location"] == f"/s/{survey.pk}/thanks/"
    assert "your answers are recorded" in text(client.get(sent["Location"], **EN))
    spouse = Person.objects.create(name="王秀兰", phone="13912345678", home=tree.household_a1)
    twice = verified(spouse.phone).post(f"/s/{survey.pk}/", answer_post(survey), **EN)
    assert twice.status_code == 409 and "Your household has already answered this survey." in text(twice)
    assert SurveyResponse.objects.count() == 1


def test_a_phone_of_no_resident_is_refused(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    response = verified("13700000000").post(f"/s/{survey.pk}/", answer_post(survey), **EN)
    assert response.status_code == 409 and "registered residents of" in text(response)
    outsider = verified(tree.resident_b.phone).post(f"/s/{survey.pk}/", answer_post(survey), **EN)
    assert outsider.status_code == 409
    assert not SurveyResponse.objects.exists() and not OptionCount.objects.exists()


def test_a_closed_survey_takes_no_answers(tree: SmallTree, clock) -> None:
    _staff, survey = make_survey(tree)
    clock.move_to(CLOSES)
    client = verified(tree.resident_a.phone, at=CLOSES)
    assert "This survey is closed." in text(client.get(f"/s/{survey.pk}/", **EN))
    response = client.post(f"/s/{survey.pk}/", answer_post(survey), **EN)
    assert response.status_code == 409 and "This survey is not open for answers." in text(response)
    assert not SurveyResponse.objects.exists()


def test_results_reach_residents_only_when_published(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    verified(tree.resident_a.phone).post(f"/s/{survey.pk}/", answer_post(survey))
    assert "not published yet" in text(Client().get(f"/s/{survey.pk}/results/", **EN))
    login(staff_of(survey)).post(f"/surveys/{survey.pk}/publish/", {"published": "1"})
    page = text(Client().get(f"/s/{survey.pk}/results/", **EN))
    assert "1 answer in all." in page and '<th scope="row">同意</th>' in page
    assert "希望早点供暖" not in page  # free text stays with the staff


def test_a_draft_survey_has_no_public_page(tree: SmallTree) -> None:
    _staff, survey = make_survey(tree)
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.DRAFT)
    assert Client().get(f"/s/{survey.pk}/").status_code == 404
