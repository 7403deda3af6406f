"""A survey on a resident's phone: /s/<survey id>/ → confirm the phone → answer → thanks; and the
published results at /s/<survey id>/results/. No account: the phone registered for the resident
identifies them (and their household, for one-answer-per-household surveys)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core import clock, personal
from gongzhi.core.errors import ApplicationError, NotFound
from gongzhi.people.selectors import residents_by_phone
from gongzhi.phones.services import session_verified_phone
from gongzhi.surveys.forms import answers_from_post
from gongzhi.surveys.models import Respondent, Survey, SurveyStatus
from gongzhi.surveys.selectors import survey_results
from gongzhi.surveys.services import survey_answer
from gongzhi.surveys.views import chart_data, question_fields
from gongzhi.votes.views_resident import (
    PhoneUrls,
    phone_box,
    phone_forget,
    phone_send_step,
    phone_verify_step,
    resident_view,
)

TEMPLATES = "surveys/resident/"
ANSWERED_KEY = "gongzhi.survey_answered.%d"


def _survey(survey_id: int) -> Survey:
    survey = (
        Survey.objects.select_related("node").filter(pk=survey_id).exclude(status=SurveyStatus.DRAFT).first()
    )
    if survey is None:
        raise NotFound()
    return survey


def _urls(survey: Survey) -> PhoneUrls:
    return PhoneUrls(
        send=reverse("surveys:phone_send", args=[survey.pk]),
        verify=reverse("surveys:phone_verify", args=[survey.pk]),
        change=reverse("surveys:phone_change", args=[survey.pk]),
        back=reverse("surveys:answer", args=[survey.pk]),
    )


def _is_open(survey: Survey) -> bool:
    now = clock.now()
    return survey.status == SurveyStatus.OPEN and survey.opens_at <= now < survey.closes_at


def sharing_the_phone(survey: Survey, phone: str) -> list[dict[str, Any]]:
    """The residents registered with this phone when they answer apart (per-person surveys, or homes
    of their own), each with a masked name and whether they have answered; [] when there is no choice."""
    people = residents_by_phone(node_path=survey.node.path, phone=phone) if phone else []
    per_person = survey.respondent == Respondent.PERSON
    keys = {p.pk: f"p:{p.pk}" if per_person else f"h:{p.home_id}" for p in people}
    if len(set(keys.values())) < 2:
        return []
    answered = set(
        survey.responses.filter(respondent_key__in=keys.values()).values_list("respondent_key", flat=True)
    )
    return [
        {"pk": p.pk, "name": personal.mask_name(p.name), "answered": keys[p.pk] in answered} for p in people
    ]


def _context(request: HttpRequest, survey: Survey, **extra: Any) -> dict[str, Any]:
    phone = session_verified_phone(request.session)
    return {
        "survey": survey,
        "is_open": _is_open(survey),
        "not_yet": survey.status == SurveyStatus.OPEN and clock.now() < survey.opens_at,
        "phone": phone,
        "box": phone_box(request, _urls(survey), error=extra.pop("phone_error", "")),
        "who": sharing_the_phone(survey, phone),
        "chosen_person": extra.pop("chosen_person", ""),
        **extra,
    }


@never_cache
@require_http_methods(["GET", "POST"])
@resident_view
def answer(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    questions = list(survey.questions.all())
    phone = session_verified_phone(request.session)
    if request.method == "POST":
        chosen = request.POST.get("person", "")
        try:
            survey_answer(
                survey_id=survey.pk,
                answers=answers_from_post(questions, request.POST),
                phone=phone,
                person_id=int(chosen) if chosen.isdigit() else None,
            )
        except ApplicationError as error:
            if isinstance(error, NotFound):
                raise
            fields = {k: str(v) for k, v in (error.extra.get("fields") or {}).items()}
            context = _context(
                request,
                survey,
                questions=question_fields(questions, request.POST, fields),
                error=str(error.message),
                refused=not fields and error.code != "choose_person",
                chosen_person=chosen,
            )
            return render(request, TEMPLATES + "answer.html", context, status=error.status)
        request.session[ANSWERED_KEY % survey.pk] = True
        return HttpResponseRedirect(reverse("surveys:thanks", args=[survey.pk]))
    context = _context(request, survey, questions=question_fields(questions, None, {}))
    return render(request, TEMPLATES + "answer.html", context)


@require_GET
@resident_view
def thanks(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    if not request.session.get(ANSWERED_KEY % survey.pk):
        return HttpResponseRedirect(reverse("surveys:answer", args=[survey.pk]))
    return render(request, TEMPLATES + "thanks.html", {"survey": survey})


@require_GET
@resident_view
def results(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    if not survey.results_published:
        return render(request, TEMPLATES + "results.html", {"survey": survey, "results": None})
    found = survey_results(survey, texts=0)
    return render(
        request, TEMPLATES + "results.html", {"survey": survey, "results": found, "charts": chart_data(found)}
    )


@require_POST
@resident_view
def phone_send(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    _phone, error = phone_send_step(request)
    if error:
        questions = list(survey.questions.all())
        context = _context(request, survey, questions=question_fields(questions, None, {}), phone_error=error)
        return render(request, TEMPLATES + "answer.html", context, status=422)
    return HttpResponseRedirect(reverse("surveys:answer", args=[survey.pk]) + "#phone-box")


@require_POST
@resident_view
def phone_verify(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    _phone, error = phone_verify_step(request)
    if error:
        questions = list(survey.questions.all())
        context = _context(request, survey, questions=question_fields(questions, None, {}), phone_error=error)
        return render(request, TEMPLATES + "answer.html", context, status=422)
    return HttpResponseRedirect(reverse("surveys:answer", args=[survey.pk]))


@require_POST
@resident_view
def phone_change(request: HttpRequest, survey_id: int) -> HttpResponse:
    survey = _survey(survey_id)
    phone_forget(request)
    return HttpResponseRedirect(reverse("surveys:answer", args=[survey.pk]))
