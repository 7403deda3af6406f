"""Checking the answers to a category's extra questions (Open311 attributes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gongzhi.core.errors import ValidationFailed
from gongzhi.tickets.deadlines import LOCAL
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType
from gongzhi.tickets.routing import memoized


def active_category(code: str) -> Category | None:
    """The active category `code` with its questions prefetched, or None (memoized, read-only)."""

    def load() -> Category | None:
        category = Category.objects.filter(code=code, is_active=True).first()
        if category is not None:
            prefetch_related_objects([category], "questions")
        return category

    return memoized(("category", code), load)


def _one(question: CategoryQuestion, value: Any) -> Any:
    keys = {str(choice.get("key")) for choice in question.choices}
    if question.datatype == QuestionType.MULTIPLE:
        values = value if isinstance(value, list | tuple) else [value]
        values = [str(v) for v in values if str(v).strip()]
        if any(v not in keys for v in values):
            raise ValueError(_("Choose from the listed answers."))
        return sorted(set(values))
    text = str(value).strip()
    if question.datatype == QuestionType.SINGLE:
        if text not in keys:
            raise ValueError(_("Choose from the listed answers."))
        return text
    if question.datatype == QuestionType.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite() or abs(number) > Decimal("1e9"):
            raise ValueError(_("Enter a number."))
        return str(number)
    if question.datatype == QuestionType.DATE:
        return _date(text).isoformat()
    if question.datatype == QuestionType.DATETIME:
        return _moment(text).isoformat()
    limit = 200 if question.datatype == QuestionType.STRING else 2000
    if len(text) > limit:
        raise ValueError(_("Keep the answer under %(limit)d characters.") % {"limit": limit})
    return text


def _date(text: str) -> dt.date:
    """A calendar day, written 2026-11-20: a date has no time and no time zone to shift it by."""
    try:
        day = parse_date(text) if len(text) == 10 else None
    except ValueError:  # well formed but impossible: 2026-02-30
        day = None
    if day is None:
        raise ValueError(_("Enter a date, e.g. 2026-11-20."))
    return day


def _moment(text: str) -> dt.datetime:
    """A moment: a W3C date and time with its offset (an Open311 client's), or without one (the
    browser's date-time field) read in Asia/Shanghai; a day alone means its midnight there."""
    try:
        moment = parse_datetime(text) or (
            dt.datetime.combine(day, dt.time()) if len(text) == 10 and (day := parse_date(text)) else None
        )
    except ValueError:
        moment = None
    if moment is None:
        raise ValueError(_("Enter a date and time, e.g. 2026-11-20 08:30."))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment.astimezone(LOCAL)


def answers_clean(category: Category, raw: dict[str, Any]) -> dict[str, Any]:
    """Validated answers keyed by question code; unknown codes are ignored, missing required ones refused."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in category.questions.all():
        value = raw.get(question.code)
        empty = value is None or value == "" or value == [] or (isinstance(value, str) and not value.strip())
        if empty:
            if question.required:
                errors[question.code] = _("This question must be answered: %(prompt)s") % {
                    "prompt": question.prompt
                }
            continue
        try:
            cleaned[question.code] = _one(question, value)
        except (ValueError, TypeError) as error:
            errors[question.code] = f"{question.prompt}: {error}"
    if errors:
        raise ValidationFailed(
            _("Some answers are missing or invalid."), code="invalid_answers", extra={"fields": errors}
        )
    return cleaned
