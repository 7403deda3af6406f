"""Forms of the owners' vote pages: a new vote, a ballot entered by staff, the receipt check.

Uploaded documents (a proxy's authorization, the scan of a paper ballot) are judged by content:
a photo goes through gongzhi.tickets.images.clean_photo (re-encoded, metadata stripped); a PDF
must start with the %PDF- magic. Either way at most 10 MB.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.files.base import ContentFile, File
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.errors import ValidationFailed
from gongzhi.tickets.images import clean_photo
from gongzhi.votes.models import BallotMethod, Matter
from gongzhi.votes.tally import Choice

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_document", extra={"fields": {"document": message}})


def clean_document(uploaded: Any) -> File[bytes]:
    """A signed paper or authorization: a PDF (by its magic bytes) or a photo, at most 10 MB."""
    too_large = _("The file is larger than 10 MB. Scan it at a lower resolution or take a photo.")
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_DOCUMENT_BYTES:
        raise _refuse(too_large)
    uploaded.seek(0)
    data = uploaded.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _refuse(too_large)
    if not data:
        raise _refuse(_("This file is empty. Choose the scan or the photo of the signed paper."))
    if data.startswith(PDF_MAGIC):
        return ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")
    try:
        return clean_photo(ContentFile(data, name="upload"))
    except ValidationFailed:
        raise _refuse(
            _("This file is neither a PDF nor a photo. Upload a PDF, or a JPEG, PNG or WebP picture.")
        ) from None


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _local_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, input_formats=[DATETIME_FORMAT], widget=LocalDateTimeInput())


def matter_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Matter.choices]


class VoteForm(forms.Form):
    compound = forms.TypedChoiceField(label=gettext_lazy("Compound"), coerce=int)
    question = forms.CharField(
        label=gettext_lazy("Question put to the owners"),
        max_length=300,
        help_text=gettext_lazy("One question the owners answer with for, against or abstain."),
    )
    description = forms.CharField(
        label=gettext_lazy("Explanation for the owners"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    matter = forms.ChoiceField(label=gettext_lazy("Matter (Civil Code art. 278)"), choices=matter_choices)
    opens_at = _local_field(gettext_lazy("Voting opens"))
    closes_at = _local_field(gettext_lazy("Voting closes"))

    def __init__(self, *args: Any, compounds: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["compound"].choices = compounds  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if isinstance(opens, dt.datetime) and isinstance(closes, dt.datetime) and closes <= opens:
            self.add_error("closes_at", _("Voting must close after it opens."))
        return data


def local_default(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT)


class BallotEntryForm(forms.Form):
    """A ballot entered by staff: an owner (or the developer), a choice, the way it was cast, the file."""

    owner = forms.CharField(label=gettext_lazy("Owner"), required=False)
    choice = forms.ChoiceField(
        label=gettext_lazy("Choice"),
        choices=[
            (Choice.FOR.value, gettext_lazy("For")),
            (Choice.AGAINST.value, gettext_lazy("Against")),
            (Choice.ABSTAIN.value, gettext_lazy("Abstain")),
        ],
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label=gettext_lazy("How the ballot was cast"),
        choices=[
            (BallotMethod.PAPER.value, gettext_lazy("On paper (upload the scan)")),
            (BallotMethod.PROXY.value, gettext_lazy("By a proxy (upload the signed authorization)")),
        ],
        initial=BallotMethod.PAPER.value,
        widget=forms.RadioSelect,
    )
    proxy_name = forms.CharField(label=gettext_lazy("Name of the proxy"), max_length=50, required=False)
    document = forms.FileField(
        label=gettext_lazy("Scan or authorization (PDF or photo, up to 10 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
    )
    submit_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def clean_owner(self) -> str:
        owner = (self.cleaned_data.get("owner") or "").strip()
        if not owner:
            raise forms.ValidationError(_("Choose the owner whose ballot this is."))
        if owner != "developer" and not owner.isdigit():
            raise forms.ValidationError(_("Choose the owner whose ballot this is."))
        return owner

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") == BallotMethod.PROXY and not (data.get("proxy_name") or "").strip():
            self.add_error("proxy_name", _("Write the name of the proxy who voted for the owner."))
        return data


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=gettext_lazy("Your receipt code"),
        max_length=80,
        help_text=gettext_lazy("The short code (12 letters and digits) or the whole receipt."),
    )

    def clean_receipt(self) -> str:
        text = "".join((self.cleaned_data.get("receipt") or "").split()).replace("-", "").lower()
        if not all(c in "0123456789abcdef" for c in text) or len(text) not in (12, 64):
            raise forms.ValidationError(
                _("A receipt is 12 or 64 letters and digits (0–9, a–f). Please check it and try again.")
            )
        return text
