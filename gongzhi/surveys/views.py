"""Opinion surveys in the staff web: list, create with questions, open/close, live results with
charts, the xlsx export, publishing results to residents and entering paper answers.

Thin: selectors read (out of scope → 404), services write; a refusal shows on the page it came
from and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.people.selectors import person_search
from gongzhi.surveys.export import results_workbook
from gongzhi.surveys.forms import (
    MAX_QUESTIONS,
    QuestionRow,
    SurveyForm,
    answers_from_post,
    kind_choices,
    question_rows,
)
from gongzhi.surveys.models import QuestionKind, Respondent, Survey, SurveyStatus
from gongzhi.surveys.selectors import SurveyResults, survey_get, survey_list, survey_results
from gongzhi.surveys.services import (
    survey_answer,
    survey_close,
    survey_create,
    survey_open,
    survey_publish_results,
)
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.votes.forms import local_default

SURVEY_NODE_KINDS = (
    NodeKind.COMMUNITY,
    NodeKind.GRID,
    NodeKind.MICRO_GRID,
    NodeKind.COMPOUND,
    NodeKind.BUILDING,
)
HOUSEHOLD_RESULTS = 20
PEOPLE_RESULTS = 20


def _can_run(actor: Actor, survey: Survey) -> bool:
    return actor.can(Perm.RUN_SURVEYS, survey.node.path)


def _nodes_to_run(actor: Actor) -> list[Node]:
    return list(
        Node.objects.filter(scope_q(actor, "path", Perm.RUN_SURVEYS), kind__in=SURVEY_NODE_KINDS).order_by(
            "path"
        )[:1000]
    )


# --- List and create ------------------------------------------------------------------------------


@staff_view
@require_GET
def survey_list_view(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    surveys = list(survey_list(actor=actor).order_by("-opens_at", "-pk")[:200])
    return render(
        request,
        "surveys/list.html",
        {"surveys": surveys, "can_create": actor.has_perm_anywhere(Perm.RUN_SURVEYS)},
    )


def _apply_errors(form: SurveyForm, rows: list[QuestionRow], error: ApplicationError) -> None:
    fields = dict(error.extra.get("fields") or {})
    if not fields:
        form.add_error(None, str(error.message))
    for name, message in fields.items():
        if name.startswith("question_") and name[9:].isdigit() and 0 < int(name[9:]) <= len(rows):
            rows[int(name[9:]) - 1].error = str(message)
        elif name in form.fields:
            form.add_error(name, str(message))
        else:
            form.add_error(None, str(message))


@staff_view
@require_http_methods(["GET", "POST"])
def survey_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    actor.ensure_has_perm(Perm.RUN_SURVEYS)
    nodes = _nodes_to_run(actor)
    choices = [(n.pk, f"{n.name} ({n.get_kind_display()})") for n in nodes]
    status = 200
    if request.method == "POST":
        form = SurveyForm(request.POST, nodes=choices)
        rows = question_rows(request.POST)
        action = request.POST.get("action", "create")
        if action == "add":
            if len(rows) < MAX_QUESTIONS:
                rows.append(QuestionRow())
            form.errors.clear()  # adding a row is not a submission: no errors yet
        elif action.startswith("remove-") and action[7:].isdigit():
            index = int(action[7:])
            if 0 <= index < len(rows):
                rows.pop(index)
            form.errors.clear()
        else:
            if form.is_valid():
                data = form.cleaned_data
                try:
                    survey = survey_create(
                        actor=actor,
                        node_id=data["node"],
                        title=data["title"],
                        description=data["description"],
                        respondent=data["respondent"],
                        opens_at=data["opens_at"],
                        closes_at=data["closes_at"],
                        questions=[row.spec() for row in rows],
                    )
                except ValidationFailed as error:
                    _apply_errors(form, rows, error)
                else:
                    messages.success(request, _("The survey is prepared. Check it, then open it."))
                    return HttpResponseRedirect(reverse("surveys:detail", args=[survey.pk]))
            elif not rows:
                form.add_error(None, _("Add at least one question."))
            status = 422
    else:
        now = clock.now().replace(minute=0, second=0, microsecond=0)
        form = SurveyForm(
            initial={
                "opens_at": local_default(now + dt.timedelta(hours=1)),
                "closes_at": local_default(now + dt.timedelta(days=14, hours=1)),
                "respondent": Respondent.HOUSEHOLD.value,
            },
            nodes=choices,
        )
        rows = [QuestionRow()]
    return render(
        request,
        "surveys/new.html",
        {
            "form": form,
            "rows": rows,
            "row_count": len(rows),
            "kinds": kind_choices(),
            "has_nodes": bool(nodes),
            "max_questions": MAX_QUESTIONS,
        },
        status=status,
    )


# --- Detail, live results, state changes ----------------------------------------------------------


def chart_data(results: SurveyResults) -> list[dict[str, Any]]:
    return [
        {
            "id": item.question.pk,
            "labels": [option.label for option in item.options],
            "counts": [option.count for option in item.options],
        }
        for item in results.questions
        if item.question.kind != QuestionKind.TEXT
    ]


def _results_context(survey: Survey) -> dict[str, Any]:
    results = survey_results(survey)
    return {
        "survey": survey,
        "results": results,
        "charts": chart_data(results),
        "live": survey.status == SurveyStatus.OPEN,
        "updated": clock.now(),
    }


@staff_view
@require_GET
def survey_detail(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = request_actor(request)
    survey = survey_get(actor=actor, survey_id=survey_id)
    context = _results_context(survey) | {
        "can_run": _can_run(actor, survey),
        "resident_url": request.build_absolute_uri(reverse("surveys:answer", args=[survey.pk])),
        "questions": list(survey.questions.all()),
    }
    return render(request, "surveys/detail.html", context)


@staff_view
@require_GET
def survey_results_partial(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = survey_get(actor=request_actor(request), survey_id=survey_id)
    return render(request, "surveys/_results.html", _results_context(survey))


def _state_change(
    request: HttpRequest, survey_id: int, change: Any, done: str, **kwargs: Any
) -> HttpResponse:
    actor = request_actor(request)
    survey = survey_get(actor=actor, survey_id=survey_id)
    try:
        change(actor=actor, survey_id=survey.pk, **kwargs)
    except ApplicationError as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return HttpResponseRedirect(reverse("surveys:detail", args=[survey.pk]))


@staff_view
@require_POST
def survey_open_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    return _state_change(request, survey_id, survey_open, _("The survey is open for answers."))


@staff_view
@require_POST
def survey_close_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    return _state_change(request, survey_id, survey_close, _("The survey is closed."))


@staff_view
@require_POST
def survey_publish_view(request: HttpRequest, survey_id: int) -> HttpResponse:
    published = request.POST.get("published", "1") == "1"
    done = (
        _("The results are published to residents.")
        if published
        else _("The results are hidden from residents.")
    )
    return _state_change(request, survey_id, survey_publish_results, done, published=published)


@staff_view
@require_GET
def survey_export(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = survey_get(actor=request_actor(request), survey_id=survey_id)
    body = results_workbook(survey)
    response = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.pk}-results.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view
@require_GET
def survey_qr(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = survey_get(actor=request_actor(request), survey_id=survey_id)
    buffer = io.BytesIO()
    url = request.build_absolute_uri(reverse("surveys:answer", args=[survey.pk]))
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=6, border=2, title=survey.title)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")


# --- Paper answers entered by staff ---------------------------------------------------------------


def households_matching(survey: Survey, query: str) -> list[dict[str, Any]]:
    query = query.strip()
    if not query:
        return []
    households = Node.objects.filter(subtree_q("path", survey.node.path), kind=NodeKind.HOUSEHOLD)
    matching = households.filter(name__icontains=query) | households.filter(code__icontains=query)
    found = list(matching.order_by("path")[:HOUSEHOLD_RESULTS])
    parents = dict(
        Node.objects.filter(path__in={h.path[: -Node.steplen] for h in found}).values_list("path", "name")
    )
    if not found:
        # "1号楼 101": match the building's name too.
        buildings = Node.objects.filter(
            subtree_q("path", survey.node.path), kind=NodeKind.BUILDING, name__icontains=query.split()[0]
        )[:5]
        rest = query.split()[1] if len(query.split()) > 1 else ""
        for building in buildings:
            inside = households.filter(subtree_q("path", building.path))
            if rest:
                inside = inside.filter(name__icontains=rest)
            for household in inside.order_by("path")[: HOUSEHOLD_RESULTS - len(found)]:
                found.append(household)
                parents[household.path[: -Node.steplen]] = building.name
    return [
        {"pk": h.pk, "label": f"{parents.get(h.path[: -Node.steplen], '')} {h.name}".strip()}
        for h in found[:HOUSEHOLD_RESULTS]
    ]


@staff_view
@require_GET
def survey_households(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = survey_get(actor=request_actor(request), survey_id=survey_id)
    query = request.GET.get("q", "")
    return render(
        request,
        "surveys/_households.html",
        {
            "households": households_matching(survey, query),
            "query": query,
            "chosen": request.GET.get("household", ""),
        },
    )


def people_matching(actor: Actor, survey: Survey, query: str, chosen: str = "") -> list[dict[str, Any]]:
    """Residents of the survey's node by name, initials, door number or phone digits (and the one
    already chosen), each with their home and whether they have answered."""
    query = query.strip()[:40]
    people = (
        list(person_search(actor=actor, query=query, node_path=survey.node.path)[:PEOPLE_RESULTS])
        if query
        else []
    )
    if chosen.isdigit() and all(str(p.pk) != chosen for p in people):
        people[:0] = list(person_search(actor=actor, node_path=survey.node.path).filter(pk=int(chosen)))
    parents = dict(
        Node.objects.filter(path__in={p.home.path[: -Node.steplen] for p in people}).values_list(
            "path", "name"
        )
    )
    answered = set(
        survey.responses.filter(respondent_key__in=[f"p:{p.pk}" for p in people]).values_list(
            "respondent_key", flat=True
        )
    )
    return [
        {
            "pk": p.pk,
            "name": p.name,
            "home": f"{parents.get(p.home.path[: -Node.steplen], '')} {p.home.name}".strip(),
            "phone": personal.mask_phone(p.phone),
            "answered": f"p:{p.pk}" in answered,
        }
        for p in people
    ]


@staff_view
@require_GET
def survey_people(request: HttpRequest, survey_id: int) -> HttpResponse:
    """htmx: the residents matching the search, for a per-person survey's paper answers."""
    actor = request_actor(request)
    survey = survey_get(actor=actor, survey_id=survey_id)
    query = request.GET.get("q", "")
    chosen = request.GET.get("person", "")
    return render(
        request,
        "surveys/_people.html",
        {"people": people_matching(actor, survey, query, chosen), "query": query, "chosen": chosen},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def survey_paper(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = request_actor(request)
    survey = survey_get(actor=actor, survey_id=survey_id)
    actor.ensure_can(Perm.RUN_SURVEYS, survey.node.path)
    questions = list(survey.questions.all())
    data = request.POST if request.method == "POST" else request.GET
    query = data.get("q", "")
    per_person = survey.respondent == Respondent.PERSON
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        chosen_id = request.POST.get("person" if per_person else "household", "")
        try:
            survey_answer(
                survey_id=survey.pk,
                answers=answers_from_post(questions, request.POST),
                person_id=int(chosen_id) if per_person and chosen_id.isdigit() else None,
                household_id=int(chosen_id) if not per_person and chosen_id.isdigit() else None,
                actor=actor,
            )
        except ApplicationError as error:
            if isinstance(error, NotFound):
                raise
            message = str(error.message)
            errors.update({k: str(v) for k, v in (error.extra.get("fields") or {}).items()})
        else:
            messages.success(request, _("The paper answers are recorded."))
            return HttpResponseRedirect(reverse("surveys:paper", args=[survey.pk]))
        status = 422
    chosen = data.get("person" if per_person else "household", "")
    context = {
        "survey": survey,
        "questions": question_fields(questions, request.POST if request.method == "POST" else None, errors),
        "query": query,
        "chosen": chosen,
        "errors": errors,
        "message": message,
        "per_person": per_person,
        "is_open": survey.status == SurveyStatus.OPEN,
    }
    if per_person:
        context["people"] = people_matching(actor, survey, query, chosen)
        context["picker"] = {
            "legend": _("Resident who answered"),
            "help": _(
                "Find the resident by name or door number: residents without a phone of their own, "
                "and family members sharing one, each answer for themselves."
            ),
            "label": _("Find the resident"),
            "url": reverse("surveys:people", args=[survey.pk]),
            "name": "person",
            "results": "people-results",
            "error": errors.get("person", ""),
        }
    else:
        context["households"] = _households_with_chosen(survey, query, chosen)
        context["picker"] = {
            "legend": _("Household"),
            "label": _("Find the household"),
            "url": reverse("surveys:households", args=[survey.pk]),
            "name": "household",
            "results": "household-results",
            "error": errors.get("household", ""),
        }
    return render(request, "surveys/paper.html", context, status=status)


def _households_with_chosen(survey: Survey, query: str, chosen: str) -> list[dict[str, Any]]:
    households = households_matching(survey, query)
    if chosen.isdigit() and chosen not in {str(h["pk"]) for h in households}:
        node = Node.objects.filter(
            subtree_q("path", survey.node.path), pk=int(chosen), kind=NodeKind.HOUSEHOLD
        ).first()
        if node is not None:
            households.insert(0, {"pk": node.pk, "label": node.name})
    return households


def question_fields(questions: list[Any], data: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    """The questions with what was posted (to show it again) and their errors."""
    fields = []
    for question in questions:
        name = f"answer-{question.pk}"
        if data is None:
            given: list[str] = []
        elif question.kind == QuestionKind.MULTIPLE:
            given = data.getlist(name)
        else:
            given = [data.get(name, "")]
        fields.append(
            {
                "question": question,
                "name": name,
                "given": given,
                "text": given[0] if given else "",
                "options": [(str(index), label) for index, label in enumerate(question.options)],
                "ratings": [str(r) for r in range(1, 6)],
                "error": errors.get(f"question_{question.pk}", ""),
            }
        )
    return fields
