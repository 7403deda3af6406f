"""Shapes shared by every router of /api/v1/: the error body and pagination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

MAX_PAGE_SIZE = 200


class ErrorOut(Schema):
    """Every error: a stable machine `code` and a translated, human `message`."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["Not found."])


# Declared on every authenticated operation so the spec documents the error answers.
# 400: a body that is not JSON or carries a NUL; 422: input that fails the schema (ninja answers it).
AUTH_ERRORS: dict[int | str, Any] = {400: ErrorOut, 401: ErrorOut, 422: ErrorOut}
SCOPED_ERRORS: dict[int | str, Any] = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class PageParams(Schema):
    """`limit` and `offset`, or `page` (1-based) with `limit` as the page size."""

    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0)
    page: int | None = Field(None, ge=1)

    @property
    def start(self) -> int:
        return (self.page - 1) * self.limit if self.page is not None else self.offset


@dataclass
class PageSlice:
    count: int
    limit: int
    offset: int
    items: list[Any]


def paginate(queryset: QuerySet[Any], params: PageParams) -> PageSlice:
    """One COUNT and one page query."""
    start = params.start
    return PageSlice(
        count=queryset.count(),
        limit=params.limit,
        offset=start,
        items=list(queryset[start : start + params.limit]),
    )
