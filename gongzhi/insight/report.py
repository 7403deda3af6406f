"""The monthly report of a node: the figures communities report upward, as a PDF and an xlsx.

`monthly_figures` gathers them, scoped by the actor: the counts and rates of the tickets received in
the month from the roll-ups (by kind, so that consultations answered (码上办) and matters handled
(码上帮) are told apart as communities report them, and by category), the month's most frequent
words, the overdue matters at the month's end with their reasons (`report_overdue`), and the
meetings held. `monthly_report_create` queues a `MonthlyReport` that the worker runs with
`monthly_report_run`, saving both files in MEDIA_ROOT so they can be downloaded again.

A report made again for a past month tells the same overdue matters: they are rebuilt from the
events up to the month's end. The counts and rates are those of the month's tickets with their
outcomes as they stand when the report is made (a ticket resolved since counts as resolved), as the
dashboards count them.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, resolve_actor, scope_q
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.insight.definitions import COUNT_FIELDS, ratio
from gongzhi.insight.models import DailyRollup, MonthlyReport, ReportStatus
from gongzhi.insight.report_overdue import Overdue, OverdueMatter, overdue_at_cutoff
from gongzhi.insight.selectors import Counts, NodeFigures, rates_for
from gongzhi.meetings.selectors import MeetingFigures, meeting_figures
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.tickets.models import Ticket, TicketKind
from gongzhi.tickets.text import tokens

logger = logging.getLogger(__name__)

TOP_CATEGORIES = 10
TOP_TERMS = 10
OVERDUE_LISTED = 50  # the PDF lists the longest overdue; the xlsx lists them all, the totals are always given
# The words of at most this many of the month's tickets are counted (a district's month is larger):
# the most frequent words do not change with more, and the report stays quick.
TERMS_SAMPLE = 4000
# Places whose names' words are left out of the frequent words; words that say nothing of a matter.
PLACE_NAME_KINDS = (
    NodeKind.DISTRICT,
    NodeKind.SUBDISTRICT,
    NodeKind.COMMUNITY,
    NodeKind.GRID,
    NodeKind.MICRO_GRID,
    NodeKind.COMPOUND,
    NodeKind.BUILDING,
)
TERMS_LEFT_OUT = frozenset(
    [
        "开始",
        "尽快",
        "不管",
        "放过",
        "整个",
        "上面",
        "下面",
        "旁边",
        "楼下",
        "楼上",
        "附近",
        "门口",
        "单元",
        "小区",
        "社区",
        "住户",
        "居民",
        "业主",
        "公司",
        "一直",
        "还是",
        "不敢",
    ]
)
# Kinds in the order communities report them: matters (码上帮), consultations (码上办), opinions (码上说).
KIND_ORDER = (TicketKind.HELP, TicketKind.AFFAIRS, TicketKind.VOICE)


@dataclass(frozen=True)
class CategoryCount:
    name: str
    received: int
    resolved: int


@dataclass(frozen=True)
class KindFigures:
    """The counts of one kind of ticket: what "consultations answered" and "matters handled" are."""

    kind: str
    counts: Counts

    @property
    def satisfaction(self) -> Fraction | None:
        return ratio(self.counts.satisfied, self.counts.rated)


@dataclass(frozen=True)
class TermCount:
    term: str
    tickets: int  # tickets whose description holds the word (once per ticket)


@dataclass(frozen=True)
class MonthlyFigures:
    node: Node
    month: dt.date
    figures: NodeFigures
    by_kind: list[KindFigures]  # in KIND_ORDER, every kind present
    by_category: list[CategoryCount]
    terms: list[TermCount]
    terms_from: int  # the tickets whose words were counted
    overdue: Overdue
    meetings: MeetingFigures | None  # None when the actor may not read the meetings there
    generated_at: dt.datetime

    @property
    def top_categories(self) -> list[CategoryCount]:
        return [c for c in self.by_category if c.received][:TOP_CATEGORIES]

    def kind(self, kind: str) -> KindFigures:
        return next(figures for figures in self.by_kind if figures.kind == kind)

    @property
    def month_complete(self) -> bool:
        """False for the month under way: its overdue matters are those of the moment of the report."""
        return self.overdue.cutoff.date() > month_end(self.month)


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


def _rollups(node: Node, start: dt.date, end: dt.date) -> QuerySet[DailyRollup]:
    return DailyRollup.objects.filter(day__gte=start, day__lte=end).filter(subtree_q("grid__path", node.path))


def _by_category(node: Node, start: dt.date, end: dt.date) -> list[CategoryCount]:
    rows = (
        _rollups(node, start, end)
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


def _by_kind(node: Node, start: dt.date, end: dt.date) -> list[KindFigures]:
    rows = _rollups(node, start, end).values("kind").annotate(**{name: Sum(name) for name in COUNT_FIELDS})
    counts = {row["kind"]: Counts.from_row(row) for row in rows.order_by()}
    return [KindFigures(kind=kind.value, counts=counts.get(kind.value, Counts())) for kind in KIND_ORDER]


def _place_names(node: Node) -> list[str]:
    """The names of the places in and above the node (down to the buildings): a word of one of them
    (花园 of 鼓楼花园) tells where, not what."""
    places = Node.objects.filter(
        Q(subtree_q("path", node.path)) | Q(path__in=node.ancestor_paths),
        kind__in=PLACE_NAME_KINDS,
    )
    return list(places.values_list("name", flat=True))


def _terms(node: Node, start: dt.datetime, end: dt.datetime) -> tuple[list[TermCount], int]:
    """The month's most frequent words (jieba, as the hot topics), each counted once per ticket.
    Words with digits (3号楼, 101) and words of place names say where, not what, and a single character
    (热 of 不太热) says little alone: they are left out."""
    grids = Node.objects.filter(subtree_q("path", node.path), kind=NodeKind.GRID).values("pk")
    descriptions = list(
        Ticket.objects.filter(
            grid_id__in=grids, submitted_at__gte=start, submitted_at__lt=end, merged_into__isnull=True
        )
        .order_by("-submitted_at")
        .values_list("description", flat=True)[:TERMS_SAMPLE]
    )
    counted: Counter[str] = Counter()
    for description in descriptions:
        counted.update(
            {
                word
                for word in tokens(description)
                if len(word) > 1 and not any(char.isdigit() for char in word)
            }
        )
    places = _place_names(node)
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    top = [
        TermCount(term, count)
        for term, count in ranked
        if count > 1 and term not in TERMS_LEFT_OUT and not any(term in place for place in places)
    ]
    return top[:TOP_TERMS], len(descriptions)


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
    last_day = month_end(month)
    figures = rates_for(actor=actor, node=node, start=month, end=last_day)
    found = figures.node
    now = clock.now()
    start, end = _local_midnight(month), _local_midnight(last_day + dt.timedelta(days=1))
    terms, terms_from = _terms(found, start, end)
    return MonthlyFigures(
        node=found,
        month=month,
        figures=figures,
        by_kind=_by_kind(found, month, last_day),
        by_category=_by_category(found, month, last_day),
        terms=terms,
        terms_from=terms_from,
        # The month's end, or now for the month under way.
        overdue=overdue_at_cutoff(actor=actor, node=found, start=start, end=end, cutoff=min(end, now)),
        meetings=_meetings(actor, found, month),
        generated_at=clock.localtime(now),
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


def report_scope_line(figures: MonthlyFigures) -> str:
    return _(
        "Tickets received from %(start)s to %(end)s, with their outcomes as of %(now)s. Overdue matters "
        "as they stood at %(cutoff)s."
    ) % {
        "start": f"{figures.figures.start:%Y-%m-%d}",
        "end": f"{figures.figures.end:%Y-%m-%d}",
        "now": f"{figures.generated_at:%Y-%m-%d %H:%M}",
        "cutoff": f"{figures.overdue.cutoff:%Y-%m-%d %H:%M}",
    }


def of(numerator: int, denominator: int) -> str:
    """'12 of 15 (80.0%)'; '0 of 0' has no percentage."""
    if not denominator:
        return _("%(n)d of %(total)d") % {"n": numerator, "total": denominator}
    return _("%(n)d of %(total)d (%(percent)s)") % {
        "n": numerator,
        "total": denominator,
        "percent": percent(ratio(numerator, denominator)),
    }


def headline_rows(figures: MonthlyFigures) -> list[tuple[str, str]]:
    """The figures communities report upward, as (label, value in words)."""
    counts = figures.figures.counts
    help_, affairs, voice = (figures.kind(kind).counts for kind in KIND_ORDER)
    overdue = figures.overdue
    return [
        (_("Tickets received"), str(counts.received)),
        (_("Matters handled (码上帮, resolved)"), of(help_.resolved, help_.received)),
        (_("Consultations answered (码上办, resolved)"), of(affairs.resolved, affairs.received)),
        (_("Opinions and suggestions replied to (码上说, resolved)"), of(voice.resolved, voice.received)),
        (_("Accepted within the response deadline"), of(counts.responded_on_time, counts.received)),
        (_("Satisfied or basically satisfied"), of(counts.satisfied, counts.rated)),
        (_("Reopened after the resident's rating or by staff"), str(counts.reopened)),
        (_("Escalated to a higher level"), str(counts.escalated)),
        (
            _("Overdue at the month's end") if figures.month_complete else _("Overdue now"),
            _("%(total)d (still open now: %(open)d)") % {"total": overdue.total, "open": overdue.still_open},
        ),
    ]


def headline_numbers(figures: MonthlyFigures) -> list[tuple[str, int, int | None]]:
    """The headline as numbers for the workbook: (label, count, out of)."""
    counts = figures.figures.counts
    help_, affairs, voice = (figures.kind(kind).counts for kind in KIND_ORDER)
    return [
        (_("Tickets received"), counts.received, None),
        (_("Matters handled (码上帮, resolved)"), help_.resolved, help_.received),
        (_("Consultations answered (码上办, resolved)"), affairs.resolved, affairs.received),
        (_("Opinions and suggestions replied to (码上说, resolved)"), voice.resolved, voice.received),
        (_("Accepted within the response deadline"), counts.responded_on_time, counts.received),
        (_("Satisfied or basically satisfied"), counts.satisfied, counts.rated),
        (_("Reopened after the resident's rating or by staff"), counts.reopened, None),
        (_("Escalated to a higher level"), counts.escalated, None),
        (
            _("Overdue at the month's end") if figures.month_complete else _("Overdue now"),
            figures.overdue.total,
            None,
        ),
        (_("Of these, still open now"), figures.overdue.still_open, figures.overdue.total),
    ]


def kind_header() -> list[str]:
    return [
        _("Kind"),
        _("Received"),
        _("Accepted"),
        _("Resolved (answered)"),
        _("Resolved on time"),
        _("Rated"),
        _("Satisfaction rate"),
    ]


def kind_rows(figures: MonthlyFigures) -> list[list[object]]:
    return [
        [
            kind_name(k.kind),
            k.counts.received,
            k.counts.responded,
            k.counts.resolved,
            k.counts.resolved_on_time,
            k.counts.rated,
            percent(k.satisfaction),
        ]
        for k in figures.by_kind
    ]


def kind_name(kind: str) -> str:
    if kind == TicketKind.HELP:
        return _("Matters (码上帮)")
    if kind == TicketKind.AFFAIRS:
        return _("Consultations (码上办)")
    return _("Opinions and suggestions (码上说)")


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


def late_words(delta: dt.timedelta) -> str:
    """How late, in days and hours ('3 d 4 h'), or hours and minutes under a day."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


def department_words(matter: OverdueMatter) -> str:
    """'城管局: reported in 11-12 10:30 (late); 供水公司: not reported in' — or '' when none was summoned."""
    parts = []
    for call in matter.departments:
        if call.reported_at is None:
            parts.append(_("%(department)s: not reported in") % {"department": call.name})
        elif call.reported_late:
            parts.append(
                _("%(department)s: reported in %(at)s, late")
                % {"department": call.name, "at": f"{call.reported_at:%m-%d %H:%M}"}
            )
        else:
            parts.append(
                _("%(department)s: reported in %(at)s")
                % {"department": call.name, "at": f"{call.reported_at:%m-%d %H:%M}"}
            )
    return pgettext("list separator", "; ").join(parts)


def now_words(matter: OverdueMatter) -> str:
    if matter.still_open:
        return _("Still open")
    if matter.resolved_at is not None:
        return _("Resolved %(at)s") % {"at": f"{matter.resolved_at:%m-%d}"}
    return _("Closed")


def why_words(matter: OverdueMatter) -> str:
    """The reasons a community reports upward, in one cell."""
    parts = [
        _("%(why)s, %(late)s late at the %(level)s level")
        % {"why": matter.why, "late": late_words(matter.late), "level": matter.level_name}
    ]
    if matter.escalations:
        parts.append(
            ngettext("escalated once", "escalated %(n)d times", matter.escalations)
            % {"n": matter.escalations}
        )
    if matter.reminders:
        parts.append(
            ngettext("one reminder (催办)", "%(n)d reminders (催办)", matter.reminders)
            % {"n": matter.reminders}
        )
    summoned = department_words(matter)
    if summoned:
        parts.append(_("summoned: %(departments)s") % {"departments": summoned})
    if matter.latest_note:
        parts.append(_("latest note: %(note)s") % {"note": matter.latest_note})
    return pgettext("list separator", "; ").join(parts)
