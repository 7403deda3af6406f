"""The monthly report as an xlsx workbook (openpyxl), and the Excel export of a filtered ticket list."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock, personal
from gongzhi.insight.definitions import ratio
from gongzhi.insight.report import (
    MonthlyFigures,
    headline_rows,
    meeting_rows,
    percent,
    rate_rows,
    report_title,
)
from gongzhi.territory.models import Node
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.selectors import TicketFilters, ticket_list

BOLD = Font(bold=True)


def _sheet(sheet: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    sheet.append(list(header))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for row in rows:
        sheet.append(list(row))
    for index, _header in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 18 if index > 1 else 30


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def render_report_xlsx(figures: MonthlyFigures) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = _("Summary")[:31]
    summary.append([report_title(figures)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([])
    _sheet(summary, [_("Figure"), _("Count")], headline_rows(figures))
    summary.append([])
    summary.append([_("Rate"), _("Value"), _("Count"), _("Definition")])
    for row in rate_rows(figures):
        summary.append(list(row))
    if figures.meetings is not None:
        summary.append([])
        for label, number in meeting_rows(figures.meetings):
            summary.append([label, number])
    _sheet(
        workbook.create_sheet(_("By category")[:31]),
        [_("Category"), _("Received"), _("Resolved"), _("Resolution rate")],
        [
            (c.name, c.received, c.resolved, percent(ratio(c.resolved, c.received)))
            for c in figures.by_category
        ],
    )
    _sheet(
        workbook.create_sheet(_("Overdue")[:31]),
        [_("No."), _("Category"), _("Level"), _("Held by"), _("Due"), _("Reminders"), _("Why")],
        [
            (m.number, m.category, m.level, m.place, f"{m.due_at:%Y-%m-%d %H:%M}", m.reminders, m.why)
            for m in figures.overdue
        ],
    )
    return _save(workbook)


def render_tickets_xlsx(tickets: Iterable[Ticket]) -> bytes:
    """A ticket list as a sheet; phones masked, no ID numbers."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Tickets")[:31]
    _sheet(
        sheet,
        [
            _("No."),
            _("Submitted at"),
            _("Kind"),
            _("Category"),
            _("Channel"),
            _("Address"),
            _("Status"),
            _("Level"),
            _("Name"),
            _("Phone"),
            _("Description"),
            _("What was done"),
        ],
        (
            (
                t.number,
                f"{clock.localtime(t.submitted_at):%Y-%m-%d %H:%M}",
                str(t.get_kind_display()),
                t.category.name,
                str(t.get_channel_display()),
                t.node.name,
                str(t.get_state_display()),
                str(t.get_level_display()),
                "" if t.is_anonymous else t.reporter_name,
                "" if t.is_anonymous else personal.mask_phone(t.reporter_phone),
                t.description,
                t.resolution_note,
            )
            for t in tickets
        ),
    )
    return _save(workbook)


EXPORT_LIMIT = 10_000


@transaction.atomic
def tickets_export_xlsx(
    *, actor: Actor, filters: TicketFilters, node: Node | None = None, ip_address: str | None = None
) -> bytes:
    """The actor's tickets matching the filters of /tickets/ as xlsx (phones masked), audited."""
    tickets = list(ticket_list(actor=actor, filters=filters)[:EXPORT_LIMIT])
    roots = actor.paths_for(Perm.VIEW_TICKETS)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        target=node,
        node_path=node.path if node is not None else (roots[0] if roots else ""),
        changes={"kind": "tickets", "rows": len(tickets), "filters": asdict(filters)},
        ip_address=ip_address,
    )
    return render_tickets_xlsx(tickets)
