from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.audit.models import AuditAction, AuditEntryQuerySet


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *AuditAction.choices]
    )
    username = forms.CharField(label=_("Username"), required=False, max_length=150)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    target = forms.CharField(label=_("Object"), required=False, max_length=200)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data

    def apply(self, entries: AuditEntryQuerySet) -> AuditEntryQuerySet:
        """Filter the (already scoped) entries by the valid fields of the form."""
        if not self.is_valid():
            return entries
        data = self.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["username"]:
            entries = entries.filter(actor_username__iexact=data["username"].strip())
        zone = timezone.get_current_timezone()
        if data["date_from"]:
            entries = entries.filter(at__gte=dt.datetime.combine(data["date_from"], dt.time.min, zone))
        if data["date_to"]:
            next_day = data["date_to"] + dt.timedelta(days=1)
            entries = entries.filter(at__lt=dt.datetime.combine(next_day, dt.time.min, zone))
        if data["target"]:
            text = data["target"].strip()
            entries = entries.filter(Q(target_repr__icontains=text) | Q(target_id=text))
        return entries

    def applied_filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        return {key: str(value) for key, value in self.cleaned_data.items() if value}
