from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.imports.models import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file contains"), choices=ImportKind.choices, widget=forms.RadioSelect
    )
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Checked by its content, not its name. Nothing is written if any row has an error."),
    )


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    node = forms.IntegerField(min_value=1)
