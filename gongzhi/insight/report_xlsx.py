"""The monthly report as an xlsx workbook (openpyxl), and the Excel export of a filtered ticket list."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

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
from gongzhi.core import clock, personal, redact
from gongzhi.insight.definitions import ratio
from gongzhi.insight.report import (
    MonthlyFigures,
    department_words,
    headline_numbers,
    kind_header,
    kind_rows,
    meeting_rows,
    now_words,
    percent,
    rate_rows,
    report_scope_line,
    report_title,
)
from gongzhi.territory.models import Node, NodeKind
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


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _save(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _summary(sheet: Worksheet, figures: MonthlyFigures) -> None:
    sheet.title = _("Summary")[:31]
    sheet.append([report_title(figures)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([report_scope_line(figures)])
    sheet.append([])
    _sheet(
        sheet,
        [_("Figure"), _("Count"), _("Out of"), _("Share")],
        [
            (label, count, total, percent(ratio(count, total)) if total is not None else "")
            for label, count, total in headline_numbers(figures)
        ],
    )
    sheet.append([])
    _bold_row(sheet, kind_header())
    for row in kind_rows(figures):
        sheet.append(row)
    sheet.append([])
    _bold_row(sheet, [_("Rate"), _("Value"), _("Count"), _("Definition")])
    for rate in rate_rows(figures):
        sheet.append(list(rate))
    if figures.meetings is not None:
        sheet.append([])
        _bold_row(sheet, [_("Meetings held"), _("Count")])
        for label, number in meeting_rows(figures.meetings):
            sheet.append([label, number])
    _widths(sheet, [46, 14, 12, 12, 14, 10, 14])


def _bold_row(sheet: Worksheet, values: Sequence[object]) -> None:
    sheet.append(list(values))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def render_report_xlsx(figures: MonthlyFigures) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    _summary(summary, figures)
    categories = workbook.create_sheet(_("By category")[:31])
    _sheet(
        categories,
        [_("Category"), _("Received"), _("Resolved"), _("Resolution rate")],
        [
            (c.name, c.received, c.resolved, percent(ratio(c.resolved, c.received)))
            for c in figures.by_category
            if c.received
        ],
    )
    terms = workbook.create_sheet(_("Frequent words")[:31])
    _sheet(terms, [_("Word"), _("Tickets naming it")], [(t.term, t.tickets) for t in figures.terms])
    overdue = workbook.create_sheet(_("Overdue")[:31])
    _sheet(
        overdue,
        [
            _("Ticket no."),
            _("Category"),
            _("Grid"),
            _("Received on"),
            _("Why"),
            _("Deadline"),
            _("Late at the cutoff (hours)"),
            _("Level at the cutoff"),
            _("Escalations"),
            _("Reminders"),
            _("Departments summoned"),
            _("Latest note"),
            _("Now"),
        ],
        [
            (
                m.number,
                m.category,
                m.grid,
                f"{m.submitted_at:%Y-%m-%d %H:%M}",
                m.why,
                f"{m.due_at:%Y-%m-%d %H:%M}",
                round(m.late.total_seconds() / 3600, 1),
                m.level_name,
                m.escalations,
                m.reminders,
                department_words(m),
                m.latest_note,
                now_words(m),
            )
            for m in figures.overdue.matters
        ],
    )
    _widths(overdue, [18, 16, 14, 17, 16, 17, 12, 10, 10, 10, 36, 40, 12])
    return _save(workbook)


EXPORT_LIMIT = 10_000
NOTE = Font(bold=True, color="B71C1C")
ADDRESS_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE, NodeKind.HOUSEHOLD)


@dataclass(frozen=True)
class TicketExport:
    content: bytes
    rows: int  # tickets in the file
    total: int  # tickets matching the filters
    names_shown: int  # reporters' names written whole (the actor may reveal personal data there)

    @property
    def truncated(self) -> bool:
        return self.rows < self.total


def _addresses(tickets: Sequence[Ticket]) -> dict[int, str]:
    """Node id → "春都华府 1号楼 1单元 101", in one query for the whole file."""
    nodes = {ticket.node.pk: ticket.node for ticket in tickets}
    paths = {path for node in nodes.values() for path in node.ancestor_paths}
    names = dict(Node.objects.filter(path__in=paths, kind__in=ADDRESS_KINDS).values_list("path", "name"))
    return {
        pk: " ".join(names[path] for path in node.ancestor_paths if path in names) or node.name
        for pk, node in nodes.items()
    }


def _reporter(ticket: Ticket, may_reveal: bool) -> str:
    if ticket.is_anonymous:
        return ""
    return ticket.reporter_name if may_reveal else personal.mask_name(ticket.reporter_name)


def render_tickets_xlsx(tickets: Sequence[Ticket], *, actor: Actor, total: int) -> TicketExport:
    """A ticket list as a sheet. Phones are masked for everyone, ID numbers never written; names
    whole only where the actor may reveal personal data (otherwise 王*英, and the free texts with
    their personal data masked). The first row says how many tickets the file holds, and says
    plainly when the list was cut at EXPORT_LIMIT."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = _("Tickets")[:31]
    if len(tickets) < total:
        note = _(
            "Only the newest %(rows)d of the %(total)d tickets matching the filters are in this file. "
            "Narrow the filters (place, state, category, kind) to export the others."
        ) % {"rows": len(tickets), "total": total}
    else:
        note = _("%(rows)d tickets, exported %(at)s.") % {
            "rows": len(tickets),
            "at": f"{clock.localtime(clock.now()):%Y-%m-%d %H:%M}",
        }
    sheet.append([note])
    sheet["A1"].font = NOTE if len(tickets) < total else BOLD
    addresses = _addresses(tickets)
    names_shown = 0
    rows = []
    for t in tickets:
        may_reveal = actor.can(Perm.REVEAL_PERSONAL_DATA, t.node.path)
        names_shown += int(may_reveal and bool(t.reporter_name) and not t.is_anonymous)
        known = [t.reporter_name]
        rows.append(
            (
                t.number,
                f"{clock.localtime(t.submitted_at):%Y-%m-%d %H:%M}",
                str(t.get_kind_display()),
                t.category.name,
                str(t.get_channel_display()),
                addresses[t.node.pk],
                str(t.get_state_display()),
                str(t.get_level_display()),
                _reporter(t, may_reveal),
                "" if t.is_anonymous else personal.mask_phone(t.reporter_phone),
                t.description if may_reveal else redact.redact(t.description, names=known),
                t.resolution_note if may_reveal else redact.redact(t.resolution_note, names=known),
            )
        )
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
        rows,
    )
    sheet.freeze_panes = "A3"
    _widths(sheet, [18, 17, 10, 14, 12, 28, 10, 8, 10, 14, 50, 40])
    return TicketExport(content=_save(workbook), rows=len(tickets), total=total, names_shown=names_shown)


@transaction.atomic
def tickets_export_xlsx(
    *, actor: Actor, filters: TicketFilters, node: Node | None = None, ip_address: str | None = None
) -> TicketExport:
    """The actor's tickets matching the filters of /tickets/ as xlsx (the newest EXPORT_LIMIT),
    masked as `render_tickets_xlsx` says; audited with the rows written and the names shown whole."""
    matching = ticket_list(actor=actor, filters=filters)
    tickets = list(matching[:EXPORT_LIMIT])
    total = len(tickets) if len(tickets) < EXPORT_LIMIT else matching.count()
    export = render_tickets_xlsx(tickets, actor=actor, total=total)
    roots = actor.paths_for(Perm.VIEW_TICKETS)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        target=node,
        node_path=node.path if node is not None else (roots[0] if roots else ""),
        changes={
            "kind": "tickets",
            "rows": export.rows,
            "total": export.total,
            "names_shown": export.names_shown,
            "filters": asdict(filters),
        },
        ip_address=ip_address,
    )
    return export
