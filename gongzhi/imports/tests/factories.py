"""Workbooks for tests: rows keyed by column, written under the real Chinese headers."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from gongzhi.imports.formats import COLUMNS
from gongzhi.imports.results import Row


def xlsx_bytes(kind: str, rows: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    columns = COLUMNS[kind]
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def numbered(rows: list[dict[str, Any]]) -> list[Row]:
    """Rows as the reader yields them: data starts on Excel row 2."""
    return [(number, row) for number, row in enumerate(rows, start=2)]
