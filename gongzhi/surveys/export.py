"""The results of a survey as an xlsx workbook (openpyxl).

No personal data: no respondent keys, households, phones or staff names. Sheets: the summary,
the counted results of every question, and the answers one row per response (numbered in the
order they came, with the day and the channel only).
"""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from gongzhi.core import clock
from gongzhi.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyResponse
from gongzhi.surveys.selectors import survey_results

BOLD = Font(bold=True)


def _widths(sheet: object, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width  # type: ignore[attr-defined]


def results_workbook(survey: Survey) -> bytes:
    results = survey_results(survey, texts=0)
    book = Workbook()
    summary = book.create_sheet(_("Summary")[:31])
    book.remove(book.worksheets[0])
    summary.title = _("Summary")[:31]
    rows = [
        (_("Survey"), survey.title),
        (_("For the residents of"), survey.node.name),
        (_("Who answers"), str(survey.get_respondent_display())),
        (_("Status"), str(survey.get_status_display())),
        (_("Opens"), clock.localtime(survey.opens_at).strftime("%Y-%m-%d %H:%M")),
        (_("Closes"), clock.localtime(survey.closes_at).strftime("%Y-%m-%d %H:%M")),
        (_("Responses"), results.responses),
        (_("Exported at"), clock.localtime(clock.now()).strftime("%Y-%m-%d %H:%M")),
    ]
    for label, value in rows:
        summary.append([label, value])
        summary.cell(row=summary.max_row, column=1).font = BOLD
    _widths(summary, [22, 60])

    counted = book.create_sheet(_("Results")[:31])
    counted.append([_("No."), _("Question"), _("Kind"), _("Option"), _("Count"), _("Percent")])
    for cell in counted[1]:
        cell.font = BOLD
    for number, item in enumerate(results.questions, start=1):
        question = item.question
        kind = str(question.get_kind_display())
        if question.kind == QuestionKind.TEXT:
            counted.append(
                [number, question.prompt, kind, _("(free text: see the Answers sheet)"), None, None]
            )
            continue
        for option in item.options:
            counted.append(
                [number, question.prompt, kind, option.label, option.count, float(option.percent) / 100]
            )
            counted.cell(row=counted.max_row, column=6).number_format = "0.0%"
        if item.average is not None:
            counted.append([number, question.prompt, kind, _("Average rating"), float(item.average), None])
    _widths(counted, [6, 48, 14, 30, 10, 10])

    answers = book.create_sheet(_("Answers")[:31])
    questions = [item.question for item in results.questions]
    answers.append([_("Response"), _("Day"), _("Channel")] + [q.prompt for q in questions])
    for cell in answers[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    by_response: dict[int, dict[int, SurveyAnswer]] = {}
    for answer in SurveyAnswer.objects.filter(response__survey=survey).order_by("response_id"):
        by_response.setdefault(answer.response_id, {})[answer.question_id] = answer
    channels = {"phone": _("On a phone"), "paper": _("On paper")}
    responses = SurveyResponse.objects.filter(survey=survey).order_by("submitted_at", "pk")
    for number, (response_id, submitted_at, channel) in enumerate(
        responses.values_list("pk", "submitted_at", "channel"), start=1
    ):
        mine = by_response.get(response_id, {})
        cells: list[object] = [
            number,
            clock.localtime(submitted_at).strftime("%Y-%m-%d"),
            channels.get(channel, channel),
        ]
        for question in questions:
            given = mine.get(question.pk)
            cells.append(_answer_text(question, given) if given is not None else None)
        answers.append(cells)
    _widths(answers, [10, 12, 10] + [28] * len(questions))
    answers.freeze_panes = "D2"

    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _answer_text(question: object, answer: SurveyAnswer) -> object:
    kind = question.kind  # type: ignore[attr-defined]
    if kind == QuestionKind.TEXT:
        return answer.text
    if kind == QuestionKind.RATING:
        return answer.rating
    options = question.options  # type: ignore[attr-defined]
    return "、".join(options[i] for i in answer.options if 0 <= i < len(options))
