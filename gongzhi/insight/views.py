"""Insight dashboards (数据洞察) of the staff web: one per node (grid, community, subdistrict, district)
and one per department.

Every figure comes from the scoped selectors of `gongzhi.insight.selectors` (roll-ups, and the
partial indexes of open tickets) and is shown with its definition from `definitions.py`; a node
outside the actor's scope is a 404. Every chart has a table of the same figures under it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.views import request_actor, staff_view
from gongzhi.insight.definitions import DASHBOARD_KINDS, DURATIONS, RATES, TIME_TO_REPORT_IN, RateDefinition
from gongzhi.insight.hot_topics import hot_topics
from gongzhi.insight.selectors import (
    Duration,
    Figures,
    OpenFigures,
    Rate,
    breakdown,
    category_names,
    children_ranking,
    dashboard_children,
    department_figures,
    department_get,
    department_series,
    durations_for,
    open_by_child,
    overdue_tickets,
    rates_for,
    series,
    target_level,
    targets_for,
    whistles_by_department,
)
from gongzhi.territory.models import Node
from gongzhi.tickets.models import Summons

OVERDUE_SHOWN = 20
TREND_WEEKS = 8


def percent(value: Fraction | None) -> Decimal | None:
    """A rate in percent to one decimal (None stays None, shown "—")."""
    if value is None:
        return None
    exact = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def human_minutes(minutes: float | None) -> str:
    """A duration for people: "under 1 min", "38 min", "5.2 h", "3.1 days" ("—" for none)."""
    if minutes is None:
        return "—"
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(value)s min") % {"value": f"{minutes:.0f}"}
    if minutes < 48 * 60:
        return _("%(value)s h") % {"value": f"{minutes / 60:.1f}"}
    return _("%(value)s days") % {"value": f"{minutes / (24 * 60):.1f}"}


def human_timedelta(delta: dt.timedelta) -> str:
    return human_minutes(delta.total_seconds() / 60)


@dataclass(frozen=True)
class RateCard:
    definition: RateDefinition
    current: Rate
    previous: Rate
    target: Decimal

    @property
    def value(self) -> Decimal | None:
        return percent(self.current.value)

    @property
    def previous_value(self) -> Decimal | None:
        return percent(self.previous.value)

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous_value is None:
            return None
        return self.value - self.previous_value

    @property
    def meets_target(self) -> bool | None:
        return None if self.value is None else self.value >= self.target


@dataclass(frozen=True)
class DurationCard:
    current: Duration
    previous: Duration

    @property
    def definition(self) -> Any:
        return self.current.definition

    @property
    def median(self) -> str:
        return human_minutes(self.current.median)

    @property
    def p90(self) -> str:
        return human_minutes(self.current.p90)

    @property
    def previous_median(self) -> str:
        return human_minutes(self.previous.median)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    is_default: bool


def _parse_day(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationFailed(_("Enter dates as YYYY-MM-DD.")) from error


def period_of(request: HttpRequest) -> Period:
    """?from=&to= (local dates, inclusive); by default this month so far against last month. A
    chosen period is compared with the period of the same length just before it."""
    today = clock.today()
    start, end = _parse_day(request.GET.get("from")), _parse_day(request.GET.get("to"))
    is_default = start is None and end is None
    end = end or today
    start = start or end.replace(day=1)
    if start > end:
        raise ValidationFailed(_("The period must start before it ends."))
    if start.day == 1 and (end.year, end.month) == (start.year, start.month):
        previous_end = start - dt.timedelta(days=1)
        previous_start = previous_end.replace(day=1)
    else:
        previous_end = start - dt.timedelta(days=1)
        previous_start = previous_end - (end - start)
    return Period(start, end, previous_start, previous_end, is_default)


def _dashboard_node(actor: Actor, node_id: int) -> Node:
    node = Node.objects.filter(pk=node_id).first()
    if node is None or node.kind not in DASHBOARD_KINDS:
        raise NotFound()
    actor.ensure_can(Perm.VIEW_TICKETS, node.path)
    return node


def _rate_cards(current: Figures, previous: Figures, goal: dict[str, Decimal]) -> list[RateCard]:
    return [RateCard(rate, current.rate(rate.id), previous.rate(rate.id), goal[rate.id]) for rate in RATES]


def _trend_start(period: Period) -> dt.date:
    monday = period.end - dt.timedelta(days=period.end.weekday())
    return min(period.start, monday - dt.timedelta(weeks=TREND_WEEKS - 1))


def _trend(points: list[Figures]) -> dict[str, Any]:
    """The weekly points as table rows, and the same figures for the chart."""
    rows: list[dict[str, Any]] = [
        {
            "start": point.start,
            "end": point.end,
            "received": point.counts.received,
            "rates": [percent(rate.value) for rate in point.rates],
        }
        for point in points
    ]
    chart = {
        "kind": "trend",
        "labels": [row["start"].strftime("%m-%d") for row in rows],
        "series": [
            {
                "name": str(rate.name),
                "data": [None if r["rates"][i] is None else float(r["rates"][i]) for r in rows],
            }
            for i, rate in enumerate(RATES)
        ],
    }
    return {"rows": rows, "chart": chart}


def _geometry(node: Node) -> dict[str, Any] | None:
    boundary = node.boundary
    if isinstance(boundary, dict) and boundary.get("type") == "Feature":
        boundary = boundary.get("geometry")
    if isinstance(boundary, dict) and boundary.get("type") in ("Polygon", "MultiPolygon"):
        return boundary
    return None


def _open_chart(figures: OpenFigures) -> dict[str, Any]:
    """Open tickets by child: a map of the children's boundaries when every one has a boundary,
    else bars. Either way the table under it has the same figures."""
    children = list(figures.children)
    features: list[dict[str, Any]] = []
    for row in children:
        geometry = _geometry(row.node)
        if geometry is None:
            features = []
            break
        features.append({"type": "Feature", "properties": {"name": row.node.name}, "geometry": geometry})
    return {
        "kind": "map" if features else "bars",
        "geojson": {"type": "FeatureCollection", "features": features} if features else None,
        "labels": [row.node.name for row in children],
        "series": [
            {"name": _("Waiting for a response"), "data": [row.awaiting_response for row in children]},
            {"name": _("Being handled"), "data": [row.awaiting_resolution for row in children]},
        ],
        "totals": [row.total for row in children],
    }


def _scope_root(actor: Actor) -> Node | None:
    """The highest node of the actor's scope with a dashboard (the first, for several)."""
    if actor.is_superuser:
        return Node.objects.filter(depth=1, kind__in=DASHBOARD_KINDS).order_by("path").first()
    roots = actor.paths_for(Perm.VIEW_TICKETS)
    if not roots:
        return None
    nodes = Node.objects.filter(path__in=roots, kind__in=DASHBOARD_KINDS).order_by("depth", "path")
    return nodes.first()


@staff_view
def insight_home(request: HttpRequest) -> HttpResponse:
    """To the dashboard of the actor's scope root, or of their department."""
    actor = request_actor(request)
    node = _scope_root(actor)
    if node is not None:
        return HttpResponseRedirect(reverse("insight:node_dashboard", args=[node.pk]))
    departments = sorted(actor.organization_ids(Role.DEPARTMENT_HANDLER))
    if departments:
        return HttpResponseRedirect(reverse("insight:department_dashboard", args=[departments[0]]))
    raise NotFound()


@staff_view
def node_dashboard(request: HttpRequest, node_id: int) -> HttpResponse:
    """Every query here is bounded by what the page shows (see `selectors`): about twenty queries,
    whatever the history."""
    actor = request_actor(request)
    node = _dashboard_node(actor, node_id)
    period = period_of(request)
    current = rates_for(actor=actor, node=node, start=period.start, end=period.end)
    previous = rates_for(actor=actor, node=node, start=period.previous_start, end=period.previous_end)
    trend = _trend(series(actor=actor, node=node, start=_trend_start(period), end=period.end).points)
    children = dashboard_children(node)
    ranking = children_ranking(actor=actor, node=node, start=period.start, end=period.end, children=children)
    opened = open_by_child(actor=actor, node=node, children=children)
    overdue = overdue_tickets(actor=actor, node=node, limit=OVERDUE_SHOWN)
    names = category_names()
    shares = breakdown(actor=actor, node=node, start=period.start, end=period.end, names=names)
    before = durations_for(actor=actor, node=node, start=period.previous_start, end=period.previous_end)
    context = {
        "node": node,
        "period": period,
        "figures": current,
        "cards": _rate_cards(current, previous, targets_for(target_level(node))),
        "durations": [DurationCard(shares.durations[d.id], before[d.id]) for d in DURATIONS],
        "rates": RATES,
        "trend": trend["rows"],
        "trend_chart": trend["chart"],
        "overdue": [(ticket, human_timedelta(ticket.overdue_by)) for ticket in overdue.tickets],  # type: ignore[attr-defined]
        "overdue_total": overdue.total,
        "overdue_more": overdue.total > len(overdue.tickets),
        "open": opened,
        "open_chart": _open_chart(opened),
        "breakdown": shares,
        "topics": hot_topics(actor=actor, node=node, category_names=names),
        "ranking": [(row, [percent(rate.value) for rate in row.rates]) for row in ranking],
        "departments": whistles_by_department(actor=actor, node=node, start=period.start, end=period.end),
        "show_map_link": node.kind in ("community", "grid"),
    }
    return render(request, "insight/dashboard.html", context)


@staff_view
def department_dashboard(request: HttpRequest, organization_id: int) -> HttpResponse:
    """A department's dashboard (吹哨报到): for its handlers only (and superusers). The three rates of
    the tickets it was summoned on, their weekly trend, its report-in times, and what waits."""
    actor = request_actor(request)
    organization = department_get(actor=actor, organization_id=organization_id)
    period = period_of(request)
    current = department_figures(actor=actor, organization=organization, start=period.start, end=period.end)
    previous = department_figures(
        actor=actor, organization=organization, start=period.previous_start, end=period.previous_end
    )
    trend = _trend(
        department_series(actor=actor, organization=organization, start=_trend_start(period), end=period.end)
    )
    waiting = list(
        Summons.objects.filter(department=organization, reported_at__isnull=True)
        .select_related("whistle__ticket__category", "whistle__ticket__node")
        .order_by("due_at", "pk")[:OVERDUE_SHOWN]
    )
    now = clock.now()
    for summons in waiting:
        summons.is_late = summons.due_at < now  # type: ignore[attr-defined]
    assert current.report_in is not None and previous.report_in is not None
    context = {
        "organization": organization,
        "period": period,
        "current": current,
        "previous": previous,
        "figures": current,
        "cards": _rate_cards(current, previous, targets_for(target_level(None))),
        "report_in_cards": [DurationCard(current.report_in, previous.report_in)],
        "report_in_definition": TIME_TO_REPORT_IN,
        "rates": RATES,
        "rows": [(_("This period"), current), (_("Last period"), previous)],
        "trend": trend["rows"],
        "trend_chart": trend["chart"],
        "waiting": waiting,
    }
    return render(request, "insight/dashboard_department.html", context)
