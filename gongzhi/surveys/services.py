"""Every write of opinion surveys: create, open, answer (phone or paper), close, publish results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.people.models import Person
from gongzhi.people.selectors import residents_by_phone
from gongzhi.surveys.models import (
    SURVEY_TRANSITIONS,
    OptionCount,
    QuestionKind,
    Respondent,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from gongzhi.territory.models import Node, NodeKind, subtree_q


class AnswerRefused(ApplicationError):
    code = "answer_refused"
    status = 409


@dataclass
class QuestionSpec:
    kind: str
    prompt: str
    options: list[str] = field(default_factory=list)
    required: bool = True


def _check_questions(questions: Sequence[QuestionSpec]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not questions:
        errors["questions"] = _("Add at least one question.")
    for number, spec in enumerate(questions, start=1):
        key = f"question_{number}"
        if spec.kind not in QuestionKind.values:
            errors[key] = _("Unknown kind of question.")
        elif not 2 <= len(spec.prompt.strip()) <= 300:
            errors[key] = _("Write the question in 2 to 300 characters.")
        elif spec.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            options = [o.strip() for o in spec.options if o.strip()]
            if len(options) < 2 or len(options) != len(set(options)) or len(options) > 20:
                errors[key] = _("A choice question needs 2 to 20 different options.")
    return errors


@transaction.atomic
def survey_create(
    *,
    actor: Actor,
    node_id: int,
    title: str,
    respondent: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    questions: Sequence[QuestionSpec],
    description: str = "",
) -> Survey:
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_SURVEYS, node.path)
    errors = _check_questions(questions)
    title = (title or "").strip()
    if not 2 <= len(title) <= 200:
        errors["title"] = _("Write a title of 2 to 200 characters.")
    if respondent not in Respondent.values:
        errors["respondent"] = _("Choose who answers: each person or each household.")
    if closes_at <= opens_at:
        errors["closes_at"] = _("The survey must close after it opens.")
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    survey = Survey.objects.create(
        node=node,
        title=title,
        description=(description or "").strip(),
        respondent=respondent,
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=actor.user,
        created_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=survey,
        node_path=node.path,
        field="status",
        changes={"status": [None, SurveyStatus.DRAFT.value], "questions": len(questions)},
    )
    for order, spec in enumerate(questions, start=1):
        SurveyQuestion.objects.create(
            survey=survey,
            order=order,
            kind=spec.kind,
            prompt=spec.prompt.strip(),
            required=spec.required,
            options=[o.strip() for o in spec.options if o.strip()],
        )
    return survey


def _locked(actor: Actor, survey_id: int) -> Survey:
    survey = (
        Survey.objects.select_for_update(of=("self",)).select_related("node").filter(pk=survey_id).first()
    )
    if survey is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_SURVEYS, survey.node.path)
    return survey


def _audit(actor: Actor, survey: Survey, field: str, changes: dict[str, object], note: str = "") -> None:
    """The audit row of a change (who, when, what, from → to, note), in the caller's transaction."""
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=survey,
        node_path=survey.node.path,
        field=field,
        reason=note,
        changes=changes,
    )


def _move(actor: Actor, survey: Survey, to: SurveyStatus, note: str = "") -> None:
    """Change the state by the table, with its audit row."""
    if to not in SURVEY_TRANSITIONS[SurveyStatus(survey.status)]:
        raise AnswerRefused(
            _("A survey that is “%(status)s” cannot become “%(to)s”.")
            % {"status": SurveyStatus(survey.status).label, "to": to.label}
        )
    old, survey.status = survey.status, to
    survey.save(update_fields=["status"])
    _audit(actor, survey, "status", {"status": [old, to.value], "responses": survey.responses_count}, note)


@transaction.atomic
def survey_open(*, actor: Actor, survey_id: int) -> Survey:
    survey = _locked(actor, survey_id)
    _move(actor, survey, SurveyStatus.OPEN)
    return survey


@transaction.atomic
def survey_close(*, actor: Actor, survey_id: int, note: str = "") -> Survey:
    survey = _locked(actor, survey_id)
    _move(actor, survey, SurveyStatus.CLOSED, (note or "").strip()[:500])
    return survey


@transaction.atomic
def survey_publish_results(*, actor: Actor, survey_id: int, published: bool = True) -> Survey:
    survey = _locked(actor, survey_id)
    if survey.results_published == published:
        return survey
    survey.results_published = published
    survey.save(update_fields=["results_published"])
    _audit(actor, survey, "results_published", {"results_published": [not published, published]})
    return survey


def _clean_answer(question: SurveyQuestion, value: Any) -> dict[str, Any] | None:
    """The stored form of one answer, None when left empty; ValueError with a message when invalid."""
    empty = value is None or value == "" or value == []
    if empty:
        if question.required:
            raise ValueError(_("Please answer this question."))
        return None
    if question.kind == QuestionKind.TEXT:
        text = str(value).strip()
        if len(text) > 2000:
            raise ValueError(_("Keep the answer under 2000 characters."))
        return {"text": text} if text else None
    if question.kind == QuestionKind.RATING:
        try:
            rating = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("Choose 1 to 5 stars.")) from None
        if not 1 <= rating <= 5:
            raise ValueError(_("Choose 1 to 5 stars."))
        return {"rating": rating}
    values = value if isinstance(value, list | tuple) else [value]
    try:
        chosen = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise ValueError(_("Choose from the listed options.")) from None
    if any(not 0 <= index < len(question.options) for index in chosen):
        raise ValueError(_("Choose from the listed options."))
    if question.kind == QuestionKind.SINGLE and len(chosen) != 1:
        raise ValueError(_("Choose one option."))
    return {"options": chosen}


def _respondent_by_staff(
    survey: Survey, *, household_id: int | None, person_id: int | None
) -> tuple[str, Node | None]:
    """Who answered on paper: the household staff chose, or for per-person surveys the resident they
    chose by name or door number (residents without a phone of their own can answer too)."""
    if survey.respondent == Respondent.PERSON:
        person = (
            Person.objects.filter(subtree_q("home__path", survey.node.path), pk=person_id)
            .select_related("home")
            .first()
            if person_id
            else None
        )
        if person is None:
            message = _("Choose the resident who answered, among the residents of %(node)s.") % {
                "node": survey.node.name
            }
            raise ValidationFailed(message, extra={"fields": {"person": message}})
        return f"p:{person.pk}", person.home
    household = (
        Node.objects.filter(
            subtree_q("path", survey.node.path), pk=household_id, kind=NodeKind.HOUSEHOLD
        ).first()
        if household_id
        else None
    )
    if household is None:
        message = _("Choose the household whose paper this is, among those of %(node)s.") % {
            "node": survey.node.name
        }
        raise ValidationFailed(message, extra={"fields": {"household": message}})
    return f"h:{household.pk}", household


def _respondent_by_phone(survey: Survey, *, phone: str, person_id: int | None) -> tuple[str, Node | None]:
    """Who answers on a phone: a resident of the survey's node registered with the verified phone.
    When family members share the phone and it matters (each person answers, or they live in
    different homes), `person_id` says who is answering."""
    people = residents_by_phone(node_path=survey.node.path, phone=phone) if phone else []
    if not people:
        raise AnswerRefused(
            _(
                "This survey is for the registered residents of %(node)s; ask your grid worker to register your phone."
            )
            % {"node": survey.node.name},
            code="not_a_resident",
        )
    per_person = survey.respondent == Respondent.PERSON
    if person_id is not None:
        person = next((p for p in people if p.pk == person_id), None)
        if person is None:
            raise AnswerRefused(
                _("Choose one of the residents registered with this phone."), code="choose_person"
            )
    elif len({p.pk if per_person else p.home_id for p in people}) > 1:
        raise AnswerRefused(
            _("Several residents share this phone: choose who is answering."), code="choose_person"
        )
    else:
        person = people[0]
    if per_person:
        return f"p:{person.pk}", person.home
    return f"h:{person.home_id}", person.home


@transaction.atomic
def survey_answer(
    *,
    survey_id: int,
    answers: dict[int, Any],
    phone: str = "",
    person_id: int | None = None,
    household_id: int | None = None,
    actor: Actor | None = None,
) -> SurveyResponse:
    """Record one respondent's answers (`answers`: question id → value) and count them at once.

    On a phone, `phone` is the resident's verified number (the view verified it), and `person_id`
    which of the residents sharing it answers. From paper, staff (`actor` with RUN_SURVEYS) name the
    household, or for per-person surveys the resident (`person_id`).
    """
    survey = Survey.objects.select_related("node").filter(pk=survey_id).first()
    if survey is None:
        raise NotFound()
    if actor is not None:
        actor.ensure_can(Perm.RUN_SURVEYS, survey.node.path)
    now = clock.now()
    if survey.status != SurveyStatus.OPEN or not survey.opens_at <= now < survey.closes_at:
        raise AnswerRefused(_("This survey is not open for answers."), code="survey_closed")
    if actor is not None:
        key, household = _respondent_by_staff(survey, household_id=household_id, person_id=person_id)
    else:
        if phone:
            phone = personal.validate_phone(phone)
        key, household = _respondent_by_phone(survey, phone=phone, person_id=person_id)
    questions = list(survey.questions.all())
    cleaned: dict[int, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for question in questions:
        try:
            value = _clean_answer(question, answers.get(question.pk))
        except ValueError as error:
            errors[f"question_{question.pk}"] = str(error)
            continue
        if value is not None:
            cleaned[question.pk] = value
    if errors:
        raise ValidationFailed(_("Some answers are missing or invalid."), extra={"fields": errors})
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey,
                respondent_key=key,
                household=household,
                channel="paper" if actor is not None else "phone",
                entered_by=actor.user if actor is not None else None,
                submitted_at=now,
            )
    except IntegrityError:
        if actor is not None:
            message = (
                _("This household has already answered this survey.")
                if survey.respondent == Respondent.HOUSEHOLD
                else _("This resident has already answered this survey.")
            )
        else:
            message = (
                _("Your household has already answered this survey.")
                if survey.respondent == Respondent.HOUSEHOLD
                else _("You have already answered this survey.")
            )
        raise AnswerRefused(message, code="already_answered") from None
    SurveyAnswer.objects.bulk_create(
        [
            SurveyAnswer(
                response=response,
                question_id=question_id,
                options=value.get("options", []),
                rating=value.get("rating"),
                text=value.get("text", ""),
            )
            for question_id, value in cleaned.items()
        ]
    )
    for question_id, value in cleaned.items():
        for option in value.get("options", []) or ([value["rating"]] if "rating" in value else []):
            _count(question_id, option)
    Survey.objects.filter(pk=survey.pk).update(responses_count=F("responses_count") + 1)
    return response


def _count(question_id: int, option: int) -> None:
    updated = OptionCount.objects.filter(question_id=question_id, option=option).update(count=F("count") + 1)
    if not updated:
        try:
            with transaction.atomic():
                OptionCount.objects.create(question_id=question_id, option=option, count=1)
        except IntegrityError:  # another answer created the counter first
            OptionCount.objects.filter(question_id=question_id, option=option).update(count=F("count") + 1)


@transaction.atomic
def survey_recount(*, survey_id: int) -> None:
    """Rebuild the counters from the stored answers (the maintenance command and the tests' oracle)."""
    OptionCount.objects.filter(question__survey_id=survey_id).delete()
    totals: dict[tuple[int, int], int] = {}
    for question_id, options, rating in SurveyAnswer.objects.filter(
        question__survey_id=survey_id
    ).values_list("question_id", "options", "rating"):
        for option in options or ([rating] if rating else []):
            totals[(question_id, option)] = totals.get((question_id, option), 0) + 1
    OptionCount.objects.bulk_create(
        [OptionCount(question_id=q, option=o, count=c) for (q, o), c in sorted(totals.items())]
    )
    Survey.objects.filter(pk=survey_id).update(
        responses_count=SurveyResponse.objects.filter(survey_id=survey_id).count()
    )
