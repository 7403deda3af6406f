"""The monthly report of a node: the figures communities report upward, as a PDF and an xlsx.

`monthly_figures` gathers them (scoped by the actor, from the roll-ups plus the open overdue
tickets); `monthly_report_create` queues a `MonthlyReport` that the worker runs with
`monthly_report_run`, saving both files in MEDIA_ROOT so they can be downloaded again.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from fractions import Fraction

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor, scope_q
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.insight.models import DailyRollup, MonthlyReport, ReportStatus
from gongzhi.insight.selectors import NodeFigures, rates_for
from gongzhi.meetings.selectors import MeetingFigures, meeting_figures
from gongzhi.territory.models import Node, subtree_q
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.selectors import TicketFilters, ticket_list
from gongzhi.tickets.workflow import AWAITING_RESPONSE

logger = logging.getLogger(__name__)

TOP_CATEGORIES = 5
OVERDUE_LIMIT = 50  # the report lists the longest-overdue matters; the total is always given


@dataclass(frozen=True)
class CategoryCount:
    name: str
    received: int
    resolved: int


@dataclass(frozen=True)
class OverdueMatter:
    number: str
    category: str
    level: str
    place: str
    due_at: dt.datetime
    reminders: int
    why: str  # "not accepted in time" or "not resolved in time"


@dataclass(frozen=True)
class MonthlyFigures:
    node: Node
    month: dt.date
    figures: NodeFigures
    by_category: list[CategoryCount]
    overdue: list[OverdueMatter]
    overdue_total: int
    meetings: MeetingFigures | None  # None when the actor may not read the meetings there
    generated_at: dt.datetime

    @property
    def top_categories(self) -> list[CategoryCount]:
        return [c for c in self.by_category if c.received][:TOP_CATEGORIES]


def month_start(value: dt.date) -> dt.date:
    return value.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def parse_month(text: str) -> dt.date:
    """'2026-11' → 2026-11-01; ValidationFailed on anything else."""
    try:
        return dt.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationFailed(_("Choose a month like 2026-11."), code="bad_month") from None


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _by_category(node: Node, start: dt.date, end: dt.date) -> list[CategoryCount]:
    rows = (
        DailyRollup.objects.filter(day__gte=start, day__lte=end)
        .filter(subtree_q("grid__path", node.path))
        .values("category__name")
        .annotate(received=Sum("received"), resolved=Sum("resolved"))
        .order_by("-received", "category__name")
    )
    return [
        CategoryCount(
            name=row["category__name"], received=int(row["received"] or 0), resolved=int(row["resolved"] or 0)
        )
        for row in rows
    ]


def _overdue(actor: Actor, node: Node) -> tuple[list[OverdueMatter], int]:
    tickets: QuerySet[Ticket] = ticket_list(
        actor=actor, filters=TicketFilters(state="open", node_id=node.pk, overdue=True)
    ).order_by("submitted_at", "pk")
    total = tickets.count()
    matters = []
    for ticket in tickets[:OVERDUE_LIMIT]:
        waiting_response = ticket.state in AWAITING_RESPONSE
        due = ticket.response_due_at if waiting_response else ticket.resolution_due_at
        matters.append(
            OverdueMatter(
                number=ticket.number,
                category=ticket.category.name,
                level=str(ticket.get_level_display()),
                place=ticket.owner_node.name,
                due_at=clock.localtime(due) if due else clock.localtime(ticket.submitted_at),
                reminders=ticket.reminders,
                why=_("Not accepted in time") if waiting_response else _("Not resolved in time"),
            )
        )
    return matters, total


def _meetings(actor: Actor, node: Node, month: dt.date) -> MeetingFigures | None:
    start = _local_midnight(month)
    end = _local_midnight(month_end(month) + dt.timedelta(days=1))
    try:
        return meeting_figures(actor=actor, node=node, start=start, end=end)
    except ApplicationError:  # no right to read the meetings there: the report leaves them out
        return None


def monthly_figures(*, actor: Actor, node: Node | int, month: dt.date) -> MonthlyFigures:
    """Everything the monthly report shows, scoped by the actor (404 outside their scope)."""
    month = month_start(month)
    figures = rates_for(actor=actor, node=node, start=month, end=month_end(month))
    found = figures.node
    overdue, overdue_total = _overdue(actor, found)
    return MonthlyFigures(
        node=found,
        month=month,
        figures=figures,
        by_category=_by_category(found, month, month_end(month)),
        overdue=overdue,
        overdue_total=overdue_total,
        meetings=_meetings(actor, found, month),
        generated_at=clock.localtime(clock.now()),
    )


# --- the job --------------------------------------------------------------------------------------


def _reports_for(actor: Actor) -> QuerySet[MonthlyReport]:
    return MonthlyReport.objects.filter(scope_q(actor, "node__path", Perm.VIEW_TICKETS)).select_related(
        "node", "requested_by"
    )


def monthly_report_get(*, actor: Actor, report_id: int) -> MonthlyReport:
    report = _reports_for(actor).filter(pk=report_id).first()
    if report is None:
        raise NotFound()
    return report


def monthly_report_list(*, actor: Actor, node: Node | None = None, limit: int = 24) -> list[MonthlyReport]:
    reports = _reports_for(actor)
    if node is not None:
        reports = reports.filter(node=node)
    return list(reports.order_by("-created_at", "-pk")[:limit])


@transaction.atomic
def monthly_report_create(*, actor: Actor, node_id: int, month: dt.date, language: str = "") -> MonthlyReport:
    """Queue the report of a node for a month; the worker renders it after the commit."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.VIEW_TICKETS, node.path)
    month = month_start(month)
    if month > clock.today():
        raise ValidationFailed(_("That month has not begun yet."), code="future_month")
    assert actor.user is not None
    report = MonthlyReport.objects.create(
        node=node, month=month, requested_by=actor.user, language=language or settings.LANGUAGE_CODE
    )
    audit_record(actor=actor, action=AuditAction.CREATE, target=report, node_path=node.path)
    from gongzhi.insight.tasks import monthly_report_task

    transaction.on_commit(lambda: monthly_report_task(report.pk))
    return report


def monthly_report_run(*, report_id: int) -> MonthlyReport:
    """Run a queued report (the worker calls this). Safe to call twice: only a queued report runs."""
    claimed = MonthlyReport.objects.filter(pk=report_id, status=ReportStatus.QUEUED).update(
        status=ReportStatus.RUNNING, progress=5
    )
    report = MonthlyReport.objects.select_related("node", "requested_by").get(pk=report_id)
    if not claimed:
        return report
    with translation.override(report.language or settings.LANGUAGE_CODE):
        try:
            _render(report)
        except ApplicationError as error:
            _fail(report, str(error.message))
        except Exception:
            logger.exception("Monthly report %s failed", report_id)
            _fail(report, _("The report failed. Try again, or tell the administrator."))
    report.refresh_from_db()
    return report


def report_file_name(report: MonthlyReport, extension: str) -> str:
    return f"report-{report.node.code}-{report.month:%Y-%m}-{report.pk}.{extension}"


def _render(report: MonthlyReport) -> None:
    from gongzhi.insight.report_pdf import render_report_pdf
    from gongzhi.insight.report_xlsx import render_report_xlsx

    # The requester's rights today, not when they asked: a role may have ended meanwhile.
    actor = resolve_actor(report.requested_by)
    figures = monthly_figures(actor=actor, node=report.node, month=report.month)
    MonthlyReport.objects.filter(pk=report.pk).update(progress=30)
    pdf = render_report_pdf(figures)
    MonthlyReport.objects.filter(pk=report.pk).update(progress=70)
    xlsx = render_report_xlsx(figures)
    report.pdf_file.save(report_file_name(report, "pdf"), ContentFile(pdf), save=False)
    report.xlsx_file.save(report_file_name(report, "xlsx"), ContentFile(xlsx), save=False)
    MonthlyReport.objects.filter(pk=report.pk).update(
        pdf_file=report.pdf_file.name,
        xlsx_file=report.xlsx_file.name,
        status=ReportStatus.SUCCEEDED,
        progress=100,
        finished_at=clock.now(),
    )


def _fail(report: MonthlyReport, message: str) -> None:
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.FAILED, error=message, finished_at=clock.now()
    )


# --- the wording shared by the PDF and the xlsx -------------------------------------------------


def percent(value: Fraction | None) -> str:
    """'87.5%'; '—' for a rate with nothing to divide by."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def report_title(figures: MonthlyFigures) -> str:
    return _("Monthly report of %(place)s, %(month)s") % {
        "place": figures.node.name,
        "month": f"{figures.month:%Y-%m}",
    }


def headline_rows(figures: MonthlyFigures) -> list[tuple[str, int]]:
    """The figures communities report upward, as (label, number)."""
    counts = figures.figures.counts
    return [
        (_("Consultations and requests received"), counts.received),
        (_("Answered (accepted)"), counts.responded),
        (_("Matters handled (resolved)"), counts.resolved),
        (_("Rated by the resident"), counts.rated),
        (_("Satisfied or basically satisfied"), counts.satisfied),
        (_("Reopened"), counts.reopened),
        (_("Escalated"), counts.escalated),
        (_("Open and overdue now"), figures.overdue_total),
    ]


def rate_rows(figures: MonthlyFigures) -> list[tuple[str, str, str, str]]:
    """(rate, value, numerator/denominator, definition) for every rate."""
    return [
        (
            str(rate.definition.name),
            percent(rate.value),
            f"{rate.numerator}/{rate.denominator}",
            str(rate.definition.definition),
        )
        for rate in figures.figures.rates
    ]


def meeting_rows(meetings: MeetingFigures) -> list[tuple[str, int]]:
    return [
        (_("Meetings held"), meetings.meetings_held),
        (_("Residents taking part"), meetings.residents_taking_part),
        (_("Matters raised"), meetings.matters_raised),
        (_("Resolutions carried out"), meetings.matters_resolved),
        (_("Resolutions still open"), meetings.matters_open),
    ]
