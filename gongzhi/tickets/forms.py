"""Forms of the staff ticket pages: list filters, intake, and the handling actions.

Forms only parse and check shapes; the rules (who may act, which transition is legal, what a
category's questions require) live in the services, whose ValidationFailed field errors the
views copy back onto these forms.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.tickets.models import Category, CategoryQuestion, Channel, QuestionType, TicketKind
from gongzhi.tickets.workflow import TicketState

MAX_PHOTOS = 3

# Channels staff name when they enter a ticket (the resident's own channels are the doorplate and web).
STAFF_INTAKE_CHANNELS = [
    (Channel.DOORSTEP.value, _("On the doorstep (小马扎)")),
    (Channel.HALL.value, _("Reception day (接待日)")),
    (Channel.PHONE.value, _("Phone")),
    (Channel.WEB.value, _("Web")),
]


def state_choices() -> list[tuple[str, Any]]:
    return [("", _("All states")), ("open", _("Open")), *TicketState.choices]


class TicketFilterForm(forms.Form):
    q = forms.CharField(label=_("Number or words"), required=False, max_length=60)
    state = forms.ChoiceField(label=_("State"), required=False, choices=state_choices)
    category = forms.ChoiceField(label=_("Category"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *TicketKind.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    node = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, categories: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories")), *(categories or [])]  # type: ignore[attr-defined]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to three photos; their content is checked and cleaned by gongzhi.tickets.images."""

    widget = MultiplePhotoInput(attrs={"accept": "image/*", "multiple": True})

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(_("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS})
        return files


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def public_outcome_field() -> forms.CharField:
    """The text for the community's public board, written knowing it is public (resolve, confirm)."""
    return forms.CharField(
        label=_("For the public board (optional)"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Everyone can read this on the community's public board. Say in general words what was "
            "done, e.g. “Replaced the stairwell lamp.”: no names, phone numbers or door numbers. "
            "Left empty, the board only says that the matter was resolved."
        ),
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say what was done.")},
    )
    public_outcome = public_outcome_field()
    photos = PhotosField(label=_("Photos (up to 3)"), required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for rejecting the ticket.")},
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for reopening the ticket.")},
    )


class MergeForm(forms.Form):
    into = forms.CharField(
        label=_("Number of the ticket to keep"),
        max_length=20,
        error_messages={"required": _("Choose the ticket this one duplicates.")},
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class CommentForm(forms.Form):
    note = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write a note.")},
    )
    is_public = forms.BooleanField(label=_("Show to the resident"), required=False)


class WhistleForm(forms.Form):
    departments = forms.TypedMultipleChoiceField(
        label=_("Departments"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose one or more departments.")},
    )
    note = forms.CharField(
        label=_("What they are summoned for"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what the departments are summoned for.")},
    )

    def __init__(self, *args: Any, departments: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["departments"].choices = departments or []  # type: ignore[attr-defined]


class ConfirmForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what was done.")},
    )
    public_outcome = public_outcome_field()
    photos = PhotosField(label=_("Photos of the result (up to 3)"), required=False)


class SummonsActionForm(forms.Form):
    note = forms.CharField(
        label=_("What your department did"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what your department did.")},
    )
    photos = PhotosField(label=_("Photos of the work (up to 3)"), required=False)


class IntakeForm(forms.Form):
    """A ticket staff take on the doorstep, in the hall or on the phone."""

    node = forms.IntegerField(
        label=_("Address"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Pick the address from the list.")},
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_INTAKE_CHANNELS, initial=Channel.DOORSTEP)
    category = forms.ChoiceField(
        label=_("Category"), error_messages={"required": _("Choose a category from the list.")}
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe the matter in a few words.")},
    )
    reporter_name = forms.CharField(label=_("Name of the resident"), required=False, max_length=50)
    reporter_phone = forms.CharField(
        label=_("Phone of the resident"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    is_anonymous = forms.BooleanField(label=_("The resident asks to stay anonymous"), required=False)
    submit_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, categories: list[Category] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            *((c.code, c.name) for c in categories or []),
        ]


def answer_field_name(question: CategoryQuestion) -> str:
    return f"answer_{question.code}"


def raw_answers(data: Any, questions: list[CategoryQuestion]) -> dict[str, Any]:
    """The answers as posted (answer_<code> fields), in the shape answers_clean expects."""
    answers: dict[str, Any] = {}
    for question in questions:
        name = answer_field_name(question)
        if question.datatype == QuestionType.MULTIPLE:
            answers[question.code] = data.getlist(name)
        else:
            answers[question.code] = data.get(name, "")
    return answers
