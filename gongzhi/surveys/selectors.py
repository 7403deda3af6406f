"""Reads of surveys: the live results, from the counters (a few rows whatever the number of answers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core.errors import NotFound
from gongzhi.surveys.models import OptionCount, QuestionKind, Survey, SurveyAnswer, SurveyQuestion


@dataclass
class OptionResult:
    label: str
    count: int
    percent: Decimal  # of the respondents who answered the question


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int
    options: list[OptionResult] = field(default_factory=list)
    average: Decimal | None = None  # ratings
    texts: list[str] = field(default_factory=list)


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]


def survey_list(*, actor: Actor) -> QuerySet[Survey]:
    return Survey.objects.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK)).select_related("node")


def survey_get(*, actor: Actor, survey_id: int) -> Survey:
    survey = survey_list(actor=actor).filter(pk=survey_id).first()
    if survey is None:
        raise NotFound()
    return survey


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal(0)
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def survey_results(survey: Survey, *, texts: int = 20) -> SurveyResults:
    """Four small queries: the response count, questions, counters and the latest free-text answers."""
    survey.responses_count = Survey.objects.values_list("responses_count", flat=True).get(pk=survey.pk)
    questions = list(survey.questions.all())
    counts: dict[int, dict[int, int]] = {}
    for question_id, option, count in OptionCount.objects.filter(question__survey=survey).values_list(
        "question_id", "option", "count"
    ):
        counts.setdefault(question_id, {})[option] = count
    text_questions = [q.pk for q in questions if q.kind == QuestionKind.TEXT]
    recent: dict[int, list[str]] = {}
    if text_questions:
        for question_id, text in (
            SurveyAnswer.objects.filter(question_id__in=text_questions)
            .exclude(text="")
            .order_by("-pk")
            .values_list("question_id", "text")[: texts * len(text_questions)]
        ):
            if len(recent.setdefault(question_id, [])) < texts:
                recent[question_id].append(text)
    results: list[QuestionResult] = []
    for question in questions:
        mine = counts.get(question.pk, {})
        if question.kind == QuestionKind.RATING:
            answered = sum(mine.values())
            total = sum(rating * n for rating, n in mine.items())
            average = (Decimal(total) / answered).quantize(Decimal("0.01")) if answered else None
            options = [
                OptionResult(f"{r}★", mine.get(r, 0), _percent(mine.get(r, 0), answered)) for r in range(1, 6)
            ]
            results.append(QuestionResult(question, answered, options, average=average))
        elif question.kind == QuestionKind.TEXT:
            results.append(
                QuestionResult(question, len(recent.get(question.pk, [])), texts=recent.get(question.pk, []))
            )
        else:
            answered = (
                survey.responses_count if question.kind == QuestionKind.MULTIPLE else sum(mine.values())
            )
            options = [
                OptionResult(label, mine.get(index, 0), _percent(mine.get(index, 0), answered))
                for index, label in enumerate(question.options)
            ]
            results.append(QuestionResult(question, answered, options))
    return SurveyResults(survey=survey, responses=survey.responses_count, questions=results)
