"""Insight dashboards (数据洞察) of the staff web: one per node (grid, community, subdistrict, district)
and one per department.

Every figure comes from the scoped selectors of `gongzhi.insight.selectors` (roll-ups only) and is
shown with its definition from `definitions.py`; a node outside the actor's scope is a 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.conf import settings
from django.db.models import Sum
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
from gongzhi.insight.definitions import RATES, RateDefinition
from gongzhi.insight.hot_topics import hot_topics
from gongzhi.insight.models import DepartmentRollup
from gongzhi.insight.selectors import (
    DepartmentFigures,
    Figures,
    Rate,
    children_ranking,
    rates_for,
    series,
    whistles_by_department,
)
from gongzhi.territory.models import Node, NodeKind, Organization
from gongzhi.tickets.models import Summons
from gongzhi.tickets.selectors import TicketFilters, ticket_list
from gongzhi.tickets.views import annotate_deadlines

# Targets in percent, per rate; settings.INSIGHT_TARGETS overrides any of them.
DEFAULT_TARGETS: dict[str, int] = {
    "response": 95,
    "resolution": 90,
    "resolution_on_time": 85,
    "satisfaction": 90,
}
DASHBOARD_KINDS = (NodeKind.DISTRICT, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID)
MAP_KINDS = (NodeKind.COMMUNITY, NodeKind.GRID)  # the map shows a grid or a community
OVERDUE_SHOWN = 20
TREND_WEEKS = 8


def targets() -> dict[str, int]:
    return {**DEFAULT_TARGETS, **getattr(settings, "INSIGHT_TARGETS", {})}


def percent(value: Fraction | None) -> Decimal | None:
    """A rate in percent to one decimal (None stays None, shown "—")."""
    if value is None:
        return None
    exact = Decimal(value.numerator) * 100 / Decimal(value.denominator)
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class RateCard:
    definition: RateDefinition
    current: Rate
    previous: Rate
    target: int

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


def _rate_cards(current: Figures, previous: Figures) -> list[RateCard]:
    goal = targets()
    return [RateCard(rate, current.rate(rate.id), previous.rate(rate.id), goal[rate.id]) for rate in RATES]


def _trend(actor: Actor, node: Node, period: Period) -> list[dict[str, Any]]:
    monday = period.end - dt.timedelta(days=period.end.weekday())
    start = min(period.start, monday - dt.timedelta(weeks=TREND_WEEKS - 1))
    found = series(actor=actor, node=node, start=start, end=period.end, by="week")
    return [
        {
            "start": point.start,
            "end": point.end,
            "received": point.counts.received,
            "rates": [percent(rate.value) for rate in point.rates],
        }
        for point in found.points
    ]


def _chart_data(trend: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "weeks": [point["start"].strftime("%m-%d") for point in trend],
        "series": [
            {
                "name": str(rate.name),
                "data": [None if p["rates"][i] is None else float(p["rates"][i]) for p in trend],
            }
            for i, rate in enumerate(RATES)
        ],
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
    actor = request_actor(request)
    node = _dashboard_node(actor, node_id)
    period = period_of(request)
    current = rates_for(actor=actor, node=node, start=period.start, end=period.end)
    previous = rates_for(actor=actor, node=node, start=period.previous_start, end=period.previous_end)
    trend = _trend(actor, node, period)
    overdue = list(
        ticket_list(actor=actor, filters=TicketFilters(overdue=True, node_id=node.pk))[: OVERDUE_SHOWN + 1]
    )
    annotate_deadlines(overdue)
    ranking = children_ranking(actor=actor, node=node, start=period.start, end=period.end)
    context = {
        "node": node,
        "period": period,
        "figures": current,
        "cards": _rate_cards(current, previous),
        "rates": RATES,
        "trend": trend,
        "chart": _chart_data(trend),
        "overdue": overdue[:OVERDUE_SHOWN],
        "overdue_more": len(overdue) > OVERDUE_SHOWN,
        "topics": hot_topics(actor=actor, node=node),
        "ranking": [(row, [percent(rate.value) for rate in row.rates]) for row in ranking],
        "departments": whistles_by_department(actor=actor, node=node, start=period.start, end=period.end),
        "show_map": node.kind in MAP_KINDS,
    }
    return render(request, "insight/dashboard.html", context)


def _department_figures(organization: Organization, start: dt.date, end: dt.date) -> DepartmentFigures:
    row = DepartmentRollup.objects.filter(department=organization, day__gte=start, day__lte=end).aggregate(
        summoned=Sum("summoned"), reported_in=Sum("reported_in"), reported_late=Sum("reported_late")
    )
    return DepartmentFigures(
        department_id=organization.pk,
        name=organization.name,
        summoned=int(row["summoned"] or 0),
        reported_in=int(row["reported_in"] or 0),
        reported_late=int(row["reported_late"] or 0),
    )


@staff_view
def department_dashboard(request: HttpRequest, organization_id: int) -> HttpResponse:
    """A department's summonses (吹哨报到): for its handlers only (and superusers)."""
    actor = request_actor(request)
    if not actor.is_superuser and organization_id not in actor.organization_ids(Role.DEPARTMENT_HANDLER):
        raise NotFound()
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise NotFound()
    period = period_of(request)
    waiting = list(
        Summons.objects.filter(department=organization, reported_at__isnull=True)
        .select_related("whistle__ticket__category", "whistle__ticket__node")
        .order_by("due_at", "pk")[:OVERDUE_SHOWN]
    )
    now = clock.now()
    for summons in waiting:
        summons.is_late = summons.due_at < now  # type: ignore[attr-defined]
    current = _department_figures(organization, period.start, period.end)
    previous = _department_figures(organization, period.previous_start, period.previous_end)
    context = {
        "organization": organization,
        "period": period,
        "current": current,
        "previous": previous,
        "rows": [(_("This period"), current), (_("Last period"), previous)],
        "waiting": waiting,
    }
    return render(request, "insight/dashboard_department.html", context)
