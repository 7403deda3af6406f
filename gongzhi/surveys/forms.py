"""Forms of the survey pages: a new survey with its question rows, and reading answers from a post.

Question rows are numbered fields (`q-0-kind`, `q-0-prompt`, `q-0-options`, `q-0-required`), so
adding or removing a row is a plain form post that works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.surveys.models import QuestionKind, Respondent, SurveyQuestion
from gongzhi.surveys.services import QuestionSpec
from gongzhi.votes.forms import DATETIME_FORMAT, LocalDateTimeInput

MAX_QUESTIONS = 30


class SurveyForm(forms.Form):
    node = forms.TypedChoiceField(label=gettext_lazy("For the residents of"), coerce=int)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Explanation for the residents"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    respondent = forms.ChoiceField(
        label=gettext_lazy("Who answers"), choices=Respondent.choices, initial=Respondent.HOUSEHOLD
    )
    opens_at = forms.DateTimeField(
        label=gettext_lazy("Opens"), input_formats=[DATETIME_FORMAT], widget=LocalDateTimeInput()
    )
    closes_at = forms.DateTimeField(
        label=gettext_lazy("Closes"), input_formats=[DATETIME_FORMAT], widget=LocalDateTimeInput()
    )

    def __init__(self, *args: Any, nodes: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["node"].choices = nodes  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if isinstance(opens, dt.datetime) and isinstance(closes, dt.datetime) and closes <= opens:
            self.add_error("closes_at", _("The survey must close after it opens."))
        return data


@dataclass
class QuestionRow:
    kind: str = QuestionKind.SINGLE.value
    prompt: str = ""
    options: str = ""  # one option a line
    required: bool = True
    error: str = ""

    def spec(self) -> QuestionSpec:
        return QuestionSpec(
            kind=self.kind,
            prompt=self.prompt,
            options=[line.strip() for line in self.options.splitlines() if line.strip()],
            required=self.required,
        )


def question_rows(data: QueryDict) -> list[QuestionRow]:
    """The rows in a post, in order (rows whose fields are all gone are skipped)."""
    count = min(
        int(data.get("rows", "0") or 0) if (data.get("rows", "0") or "0").isdigit() else 0, MAX_QUESTIONS
    )
    rows = []
    for index in range(count):
        prefix = f"q-{index}-"
        if prefix + "kind" not in data:
            continue
        kind = data.get(prefix + "kind", "")
        rows.append(
            QuestionRow(
                kind=kind if kind in QuestionKind.values else QuestionKind.SINGLE.value,
                prompt=data.get(prefix + "prompt", "").strip(),
                options=data.get(prefix + "options", ""),
                required=data.get(prefix + "required") == "on",
            )
        )
    return rows


def answers_from_post(questions: list[SurveyQuestion], data: QueryDict) -> dict[int, Any]:
    """The answers in the shape survey_answer expects: question id → index, [indexes], rating or text."""
    answers: dict[int, Any] = {}
    for question in questions:
        name = f"answer-{question.pk}"
        if question.kind == QuestionKind.MULTIPLE:
            answers[question.pk] = data.getlist(name)
        else:
            answers[question.pk] = data.get(name, "")
    return answers


def kind_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in QuestionKind.choices]
