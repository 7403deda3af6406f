"""Forms of the meeting and project pages: they parse and check input; the services decide."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.models import Role
from gongzhi.core import clock
from gongzhi.meetings.models import MeetingKind, Recurrence

# The roles a meeting usually invites on its node (the rest stay out of the form to keep it short).
INVITABLE_ROLES = (
    Role.BUILDING_LEADER,
    Role.GRID_WORKER,
    Role.GRID_CHIEF,
    Role.COMMUNITY_STAFF,
    Role.COMMUNITY_SECRETARY,
    Role.SUBDISTRICT_STAFF,
)
_SPLIT = re.compile(r"[\s,，、;；]+")


def split_numbers(value: str) -> list[str]:
    """ "2026112000001, 2026112000002" → the numbers, in order, without repeats."""
    seen: list[str] = []
    for part in _SPLIT.split(value or ""):
        if part and part not in seen:
            seen.append(part)
    return seen


def aware(day: dt.date, time: dt.time) -> dt.datetime:
    """A local date and time (Asia/Shanghai) as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, time))


class MeetingForm(forms.Form):
    kind = forms.ModelChoiceField(
        label=_("Kind of meeting"),
        queryset=MeetingKind.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=None,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    starts = forms.TimeField(
        label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    ends = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=200)
    invite_roles = forms.MultipleChoiceField(
        label=_("Invite everyone holding these roles here"),
        choices=[(role.value, role.label) for role in INVITABLE_ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    organizations = forms.MultipleChoiceField(
        label=_("Invite organizations"), required=False, widget=forms.CheckboxSelectMultiple
    )
    people = forms.MultipleChoiceField(label=_("Invite people"), required=False)
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=Recurrence.choices, required=False)
    until = forms.DateField(
        label=_("Repeats until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: Any,
        organizations: list[tuple[int, str]],
        people: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["organizations"]).choices = [
            (str(pk), name) for pk, name in organizations
        ]
        # The people picked so far (by search): only these may be sent back.
        cast(forms.ChoiceField, self.fields["people"]).choices = [(str(pk), name) for pk, name in people]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, starts, ends = data.get("day"), data.get("starts"), data.get("ends")
        if day and starts and ends:
            data["starts_at"], data["ends_at"] = aware(day, starts), aware(day, ends)
            if ends <= starts:
                self.add_error("ends", _("The meeting must end after it starts."))
        if data.get("recurrence") and not data.get("until"):
            self.add_error("until", _("A recurring meeting needs an end date."))
        return data


class AgendaForm(forms.Form):
    title = forms.CharField(label=_("Topic"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tickets = forms.CharField(
        label=_("Tickets (numbers)"),
        max_length=400,
        required=False,
        help_text=_("Separate the numbers by spaces or commas, or pick them with the search above."),
    )
    survey = forms.TypedChoiceField(label=_("Survey results"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, surveys: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["survey"]).choices = [("", _("None"))] + [
            (str(pk), title) for pk, title in surveys
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["ticket_numbers"] = split_numbers(data.get("tickets", ""))
        if (data["ticket_numbers"] or data.get("notes") or data.get("survey")) and not data.get("title"):
            self.add_error("title", _("Name the topic of this agenda item."))
        return data


AgendaFormSet = formset_factory(AgendaForm, extra=0, max_num=10, absolute_max=10)


class SignInForm(forms.Form):
    person = forms.IntegerField(widget=forms.HiddenInput)


class RecordForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Write plain text: a blank line starts a new paragraph, a line break stays a line break. "
            "Simple HTML is kept too: <p>, <strong>, <em>, lists <ul>/<ol>/<li>, headings <h3>/<h4>, "
            "tables; everything else is removed."
        ),
    )


class MinutesCorrectionForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Write plain text: a blank line starts a new paragraph, a line break stays a line break."
        ),
    )
    note = forms.CharField(
        label=_("What was corrected and why"),
        max_length=500,
        help_text=_("Kept with the earlier version of the minutes and in the audit log."),
    )


class ResolutionForm(forms.Form):
    text = forms.CharField(
        label=_("Resolution"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner = forms.TypedChoiceField(
        label=_("Owner organization"), coerce=int, required=False, empty_value=None
    )
    deadline = forms.DateField(
        label=_("Deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    budget = forms.DecimalField(
        label=_("Budget (yuan)"), min_value=Decimal(0), max_digits=12, decimal_places=2, required=False
    )

    def __init__(self, *args: Any, owners: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "—")] + [
            (str(pk), name) for pk, name in owners
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("text"):
            if not data.get("owner"):
                self.add_error("owner", _("Name the organization that owns this resolution."))
            if not data.get("deadline"):
                self.add_error("deadline", _("Set a deadline."))
        return data


ResolutionFormSet = formset_factory(ResolutionForm, extra=3, max_num=10, absolute_max=10)


# --- Projects -------------------------------------------------------------------------------------


class ProjectForm(forms.Form):
    """A 我为群众办实事 project that did not come from a meeting (its funding and milestones are rows)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What is done, for whom"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    owner = forms.TypedChoiceField(label=_("Responsible organization"), coerce=int, empty_value=None)
    deadline = forms.DateField(
        label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    budget = forms.DecimalField(
        label=_("Budget (yuan)"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
        error_messages={"min_value": _("The budget cannot be negative.")},
    )
    is_public = forms.BooleanField(
        label=_("Show it on the community's public project list"), required=False, initial=True
    )

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "—")] + [
            (str(pk), name) for pk, name in owners
        ]
        self.fields["owner"].error_messages["required"] = _(
            "Choose the organization responsible for the project."
        )
        self.fields["title"].error_messages["required"] = _("Write a title of 2 to 200 characters.")
        self.fields["deadline"].error_messages["required"] = _("Set a deadline.")

    def clean_deadline(self) -> dt.date:
        deadline: dt.date = self.cleaned_data["deadline"]
        if deadline < clock.today():
            raise forms.ValidationError(_("The deadline cannot be in the past."))
        return deadline


class FundingRowForm(forms.Form):
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("source")) != (data.get("amount") is not None) and not self.errors:
            self.add_error(None, _("Name the source and a positive amount."))
        return data


class MilestoneRowForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200, required=False)
    due = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("due") and not data.get("title"):
            self.add_error("title", _("Name the milestone."))
        return data


FundingFormSet = formset_factory(FundingRowForm, extra=3, max_num=10, absolute_max=10)
MilestoneFormSet = formset_factory(MilestoneRowForm, extra=4, max_num=20, absolute_max=20)


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Milestone"), max_length=200)
    due = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class MilestoneDoneForm(forms.Form):
    on = forms.DateField(
        label=_("Done on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class FundingForm(forms.Form):
    source = forms.CharField(label=_("Source"), max_length=100)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )


class PhotoForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=[("before", _("Before")), ("after", _("After"))])
    image = forms.FileField(label=_("Photo"))
    caption = forms.CharField(label=_("Caption"), max_length=200, required=False)


class FiguresForm(forms.Form):
    month = forms.RegexField(label=_("Month"), regex=r"^\d{4}-\d{2}$", required=False)

    def period(self, today: dt.date) -> tuple[dt.datetime, dt.datetime, dt.date]:
        """[start, end) of the chosen month (this month by default) in local time, and its first day."""
        text = self.cleaned_data.get("month") if self.is_valid() else ""
        first = today.replace(day=1)
        if text:
            year, month = (int(part) for part in text.split("-"))
            if 1 <= month <= 12 and 2000 <= year <= 2100:
                first = dt.date(year, month, 1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return aware(first, dt.time()), aware(following, dt.time()), first
