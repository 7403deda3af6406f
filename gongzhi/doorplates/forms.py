from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.doorplates.models import PrintLayout


class PrintForm(forms.Form):
    layout = forms.ChoiceField(
        label=_("Layout"), choices=PrintLayout.choices, initial=PrintLayout.SHEETS, widget=forms.RadioSelect
    )
    reissue = forms.BooleanField(
        label=_("Reissue the codes"),
        required=False,
        help_text=_(
            "Every plate gets a new code and the old printed plates stop working. "
            "Only for lost or misused plates: all of them must be replaced."
        ),
    )
