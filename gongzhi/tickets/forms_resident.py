"""Forms of the resident pages: big, few fields, plain words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType, Rating
from gongzhi.tickets.services.intake import DESCRIPTION_MAX, MAX_PHOTOS

ANSWER_PREFIX = "answer_"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS files; each is checked by content later (tickets.images.clean_photo)."""

    widget = MultiplePhotoInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("Choose at most %(n)d photos.") % {"n": MAX_PHOTOS})
        return [super(PhotosField, self).clean(f, initial) for f in files]


class _ChoiceField(forms.ChoiceField):
    """Choices offered, not judged here: answers_clean() refuses a value not listed, in its own words."""

    def valid_value(self, value: str) -> bool:
        return True


class _MultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: str) -> bool:
        return True


def _question_field(question: CategoryQuestion) -> forms.Field:
    # Every answer is optional here: answers_clean() is the one judge, and its messages go on the field.
    common: dict[str, Any] = {"label": question.prompt, "required": False, "help_text": question.description}
    choices = [(str(c.get("key")), str(c.get("name"))) for c in question.choices]
    if question.datatype == QuestionType.SINGLE:
        return _ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.datatype == QuestionType.MULTIPLE:
        return _MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if question.datatype == QuestionType.NUMBER:
        return forms.CharField(
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}), **common
        )
    if question.datatype == QuestionType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if question.datatype == QuestionType.DATETIME:
        return forms.CharField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common)
    if question.datatype == QuestionType.TEXT:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(widget=forms.TextInput(attrs={"autocomplete": "off"}), **common)


class ResidentTicketForm(forms.Form):
    """A resident's ticket: category, its questions, description, photos, name, anonymity."""

    category = forms.ChoiceField(
        label=_("What is it about?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what it is about.")},
    )
    description = forms.CharField(
        label=_("Say what happened"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": DESCRIPTION_MAX}),
        error_messages={"required": _("Write a few words about it.")},
    )
    photos = PhotosField(
        label=_("Photos (up to 3, if you like)"),
        required=False,
        widget=MultiplePhotoInput(attrs={"accept": "image/*"}),
    )
    name = forms.CharField(
        label=_("Your name (if you like)"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    is_anonymous = forms.BooleanField(
        label=_("Stay anonymous: do not record my name"),
        required=False,
    )
    submit_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, categories: list[Category], category: Category | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.categories = {c.code: c for c in categories}
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(c.code, c.name) for c in categories]
        self.chosen_category = category
        self.questions: list[CategoryQuestion] = list(category.questions.all()) if category else []
        for question in self.questions:
            self.fields[ANSWER_PREFIX + question.code] = _question_field(question)

    def question_rows(self) -> list[tuple[forms.BoundField, CategoryQuestion]]:
        return [(self[ANSWER_PREFIX + q.code], q) for q in self.questions]

    def raw_answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {q.code: data.get(ANSWER_PREFIX + q.code) for q in self.questions}

    def add_answer_errors(self, errors: dict[str, str]) -> None:
        for code, message in errors.items():
            name = ANSWER_PREFIX + code
            self.add_error(name if name in self.fields else None, message)


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("Are you satisfied with the result?"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the three answers.")},
    )
    comment = forms.CharField(
        label=_("Anything to add? (if you like)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
    )
