from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.core import personal


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, pinyin initials, door number or phone"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}),
        help_text=_(
            "Name, pinyin initials (e.g. zxy), door number, last 4 digits of the phone, or 138****1234."
        ),
    )
    node = forms.IntegerField(required=False, widget=forms.HiddenInput)


class IdNumberForm(forms.Form):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=24,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
        help_text=_("All 18 characters. The search is written to the audit log."),
    )

    def clean_id_number(self) -> str:
        # Shape, birth date and check digit: a mistyped number is said to be wrong, not "not found".
        return personal.validate_id_number(self.cleaned_data["id_number"])


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=[("phone", _("Phone")), ("id_number", _("ID number"))])
    reason = forms.CharField(
        label=_("Reason"),
        min_length=2,
        max_length=500,
        error_messages={
            "required": _("Give a reason for revealing personal data."),
            "min_length": _("Give a reason for revealing personal data."),
        },
    )
