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

from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound
from gongzhi.phones.services import session_verified_phone
from gongzhi.surveys.forms import answers_from_post
from gongzhi.surveys.models import Survey, SurveyStatus
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


def _context(request: HttpRequest, survey: Survey, **extra: Any) -> dict[str, Any]:
    return {
        "survey": survey,
        "is_open": _is_open(survey),
        "not_yet": survey.status == SurveyStatus.OPEN and clock.now() < survey.opens_at,
        "phone": session_verified_phone(request.session),
        "box": phone_box(request, _urls(survey), error=extra.pop("phone_error", "")),
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
        try:
            survey_answer(
                survey_id=survey.pk, answers=answers_from_post(questions, request.POST), phone=phone
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
                refused=not fields,
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
