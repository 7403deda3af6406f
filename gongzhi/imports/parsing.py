"""Turning cells into values, one column at a time, collecting errors instead of raising."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.imports.formats import Column
from gongzhi.imports.results import RowError
from gongzhi.imports.workbook import cell_text
from gongzhi.territory.models import Node

T = TypeVar("T")
MASK = "*"
CHUNK = 500  # values per IN (...) query: well under SQLite's 999 parameters


class RowReader:
    """Reads the cells of one row and records (row, header, reason) for every bad one."""

    __slots__ = ("errors", "headers", "number", "texts")

    def __init__(self, number: int, cells: dict[str, Any], headers: dict[str, str], errors: list[RowError]):
        self.number = number
        # Most cells of a generated or typed roster are strings already: no call for those.
        self.texts = {
            key: value.strip() if type(value) is str else cell_text(value) for key, value in cells.items()
        }
        self.headers = headers
        self.errors = errors

    def filled(self, keys: tuple[str, ...]) -> bool:
        texts = self.texts
        return any(texts.get(key) for key in keys)

    def error(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.number, self.headers[key], reason))

    def text(self, key: str, *, required: bool = False, max_length: int = 0) -> str:
        value = self.texts.get(key, "")
        if required and not value:
            self.error(key, _("A value is required."))
        elif max_length and len(value) > max_length:
            self.error(key, _("At most %(count)d characters.") % {"count": max_length})
            return ""
        return value

    def integer(self, key: str, *, low: int, high: int) -> int | None:
        raw = self.text(key)
        if not raw:
            return None
        try:
            value = int(Decimal(raw))
            if value != Decimal(raw):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            self.error(key, _("%(value)s is not a whole number.") % {"value": raw})
            return None
        if not low <= value <= high:
            self.error(
                key,
                _("%(value)s is not between %(low)d and %(high)d.")
                % {"value": raw, "low": low, "high": high},
            )
            return None
        return value

    def decimal(self, key: str, *, places: int) -> tuple[str, Decimal | None]:
        """(raw text, value); the value is None when the cell is empty or not a number (reported)."""
        raw = self.text(key)
        if not raw:
            return raw, None
        value = _decimal(raw, places)
        if value is None:
            self.error(key, _("%(value)s is not a number.") % {"value": raw})
        return raw, value

    def choice(self, key: str, choices: dict[str, T], *, required: bool = False) -> T | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        if raw not in choices:
            self.error(
                key,
                _("%(value)s is not one of: %(choices)s.") % {"value": raw, "choices": "、".join(choices)},
            )
            return None
        return choices[raw]

    def validated(self, key: str, raw: str, validator: Any) -> str | None:
        try:
            return str(validator(raw))
        except ValidationError as exc:
            self.error(key, " ".join(exc.messages))
            return None


@lru_cache(maxsize=4096)
def _decimal(raw: str, places: int) -> Decimal | None:
    # Cached: the rows of one household repeat its floor area (Decimals are immutable).
    try:
        value = Decimal(raw)
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def is_masked(value: str) -> bool:
    """Cells an export masked (138****1234, 370**************5): recognised and skipped on import."""
    return MASK in value


def headers_of(columns: Sequence[Column]) -> dict[str, str]:
    return {column.key: column.header for column in columns}


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def denied_reason(actor: Actor, path: str, unknown: str) -> str | None:
    """None when the actor may import into the node at `path`. Otherwise the reason to report:
    outside every scope the node is simply unknown, so an import never reveals that it exists."""
    if actor.can(Perm.IMPORT_DATA, path):
        return None
    if actor.can(Perm.VIEW_NETWORK, path):
        return _("You may not import data into this node.")
    return unknown


def common_path(paths: list[str]) -> str:
    """The deepest node path that every path lies under (for the audit row of an import)."""
    if not paths:
        return ""
    first, last = min(paths), max(paths)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[: length - length % Node.steplen]
