"""Reading and writing the xlsx files: content checks of uploads, rows by header, templates, exports."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core.errors import ValidationFailed
from gongzhi.imports.formats import COLUMNS, SHEET_TITLES, Column, example_rows, header_base, header_lookup
from gongzhi.imports.results import FILE_ROW, Row, RowError

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A zip may not unpack to more than this many times its own size (a "zip bomb" guard);
# real workbooks compress about 5-10 times.
MAX_EXPANSION = 100
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="FDE9D9")
_EXAMPLE_FONT = Font(color="808080", italic=True)

NOT_XLSX = gettext_lazy("The file is not an Excel workbook (.xlsx). Save it as .xlsx and upload it again.")


def check_xlsx(file: IO[bytes], *, size: int, max_bytes: int) -> None:
    """Refuse anything that is not a real xlsx package by its content, whatever its name says."""
    if size > max_bytes:
        raise ValidationFailed(
            _("The file is too large (at most %(size)s).") % {"size": filesizeformat(max_bytes)},
            code="file_too_large",
        )
    file.seek(0)
    try:
        if not zipfile.is_zipfile(file):
            raise ValidationFailed(NOT_XLSX, code="not_xlsx")
        file.seek(0)
        with zipfile.ZipFile(file) as package:
            names = set(package.namelist())
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationFailed(NOT_XLSX, code="not_xlsx") from exc
    finally:
        file.seek(0)
    if not all(part in names for part in _REQUIRED_PARTS):
        raise ValidationFailed(NOT_XLSX, code="not_xlsx")
    if unpacked > max(size, 1) * MAX_EXPANSION:
        raise ValidationFailed(NOT_XLSX, code="not_xlsx")


def cell_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel (phones, years, door numbers) lose no digits."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, int | Decimal | dt.date):
        return str(value)
    return str(value).strip()


def read_rows(source: IO[bytes] | str, kind: str) -> tuple[list[RowError], list[Row]]:
    """Rows of the first sheet keyed by column, numbered as Excel numbers them (header = row 1).

    Unknown columns are ignored; a missing required column is one error on row 1.
    Entirely empty rows are skipped.
    """
    columns = COLUMNS[kind]
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on damaged packages
        return [RowError(FILE_ROW, "", str(NOT_XLSX))], []
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None) or ()
        lookup = header_lookup(columns)
        positions: list[tuple[int, str]] = []
        for index, cell in enumerate(header):
            column = lookup.get(header_base(cell))
            if column is not None:
                positions.append((index, column.key))
        found = {key for _, key in positions}
        errors = [
            RowError(1, column.header, _("This column is missing."))
            for column in columns
            if column.required and column.key not in found
        ]
        if errors:
            return errors, []
        rows: list[Row] = []
        for number, cells in enumerate(values, start=2):
            row = {key: cells[index] for index, key in positions if index < len(cells)}
            if any(value is not None and cell_text(value) != "" for value in row.values()):
                rows.append((number, row))
        return [], rows
    finally:
        workbook.close()


def _header_cells(sheet: Any, columns: tuple[Column, ...]) -> list[Any]:
    cells = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cells.append(cell)
    return cells


def _write_notes(workbook: Workbook, columns: tuple[Column, ...], kind: str) -> None:
    notes = workbook.create_sheet("说明")
    notes.append([_("Column"), _("Required"), _("Explanation")])
    for cell in notes[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in columns:
        notes.append([column.header, _("yes") if column.required else _("no"), str(column.note)])
    notes.append([])
    general = [
        _("Fill in the first sheet; keep the headers in row 1. The grey example rows must be deleted."),
        _(
            "An import is all-or-nothing: if any row has an error, nothing is written and every error is listed with its row and column."
        ),
        _(
            "Importing the same file again changes nothing. Existing rows are matched by code, people by ID number (or by name within the household)."
        ),
        _(
            "An empty cell keeps the value already stored. Masked cells from an export (138****1234) are skipped."
        ),
    ]
    if kind == "roster":
        general.append(_("One row per person. A household is created once for its building and door number."))
    for line in general:
        notes.append([line])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90
    for row in notes.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def build_template(kind: str) -> bytes:
    """The downloadable template: headers, an example row, drop-downs and a notes sheet."""
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_TITLES[kind]
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for example in example_rows(kind):
        sheet.append([example.get(column.key) for column in columns])
        for cell in sheet[sheet.max_row]:
            cell.font = _EXAMPLE_FONT
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                for cell in row:
                    cell.number_format = "@"
            sheet.column_dimensions[letter].number_format = "@"
        if column.choices:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
            )
            validation.add(f"{letter}2:{letter}10000")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    _write_notes(workbook, columns, kind)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def build_export(kind: str, rows: Iterable[dict[str, Any]]) -> bytes:
    """An export in the import format (streamed: write-only sheets keep memory flat)."""
    columns = COLUMNS[kind]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLES[kind])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.append(_header_cells(sheet, columns))
    for row in rows:
        sheet.append([row.get(column.key) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
