"""/api/v1/stats: the figures behind every insight chart, from the roll-ups, scoped.

The three rates (三率) of a node and their series, the children ranked, counts by kind, category,
channel and level, the times to respond and to resolve (median, 90th percentile), the tickets open
now by child node, hot topics, whistles by department, and a department's own figures. Every figure
is about the tickets *received* (submitted) in the period, with their outcomes as they stand now;
each rate and duration carries its definition. A node (or department) outside the caller's scope
answers 404.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from gongzhi.core import clock
from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import SCOPED_ERRORS
from gongzhi.insight.hot_topics import HotTopics, hot_topics
from gongzhi.insight.selectors import (
    Counts,
    Duration,
    Figures,
    breakdown,
    children_ranking,
    department_figures,
    department_series,
    durations_for,
    node_in_scope,
    open_by_child,
    rates_for,
    series,
    target_level,
    targets_for,
    whistles_by_department,
)

router = Router(tags=["stats"])


class DatesParams(Schema):
    from_: dt.date | None = Field(
        None, alias="from", description="First day (local date, inclusive); the month's first day."
    )
    to: dt.date | None = Field(None, description="Last day (local date, inclusive); today.")

    def period(self) -> tuple[dt.date, dt.date]:
        end = self.to or clock.today()
        return self.from_ or end.replace(day=1), end


class PeriodParams(DatesParams):
    node: int = Field(description="A territory node (grid or above) in the caller's scope.")


class SeriesParams(PeriodParams):
    by: Literal["day", "week"] = "week"


class RankingParams(PeriodParams):
    rate: Literal["response", "resolution", "resolution_on_time", "satisfaction"] = "resolution"


class DepartmentOut(Schema):
    department_id: int
    name: str
    summoned: int
    reported_in: int
    reported_late: int


class NodeOut(Schema):
    id: int
    name: str
    kind: str


class CountsOut(Schema):
    received: int
    responded: int
    responded_on_time: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied: int
    reopened: int
    escalated: int


class RateOut(Schema):
    id: str
    name: str
    definition: str
    numerator: int
    denominator: int
    value: str | None = Field(description="The rate to four decimals; null when nothing was counted (“—”).")
    target: str | None = Field(None, description="The target of the node's level, in percent.")


class FiguresOut(Schema):
    start: dt.date
    end: dt.date
    counts: CountsOut
    rates: list[RateOut]


class RatesOut(FiguresOut):
    node: NodeOut


class SeriesOut(Schema):
    node: NodeOut
    by: str
    points: list[FiguresOut]


def _value(value: Any) -> str | None:
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def figures_out(figures: Figures) -> dict[str, Any]:
    counts: Counts = figures.counts
    return {
        "start": figures.start,
        "end": figures.end,
        "counts": counts.__dict__,
        "rates": [
            {
                "id": rate.definition.id,
                "name": str(rate.definition.name),
                "definition": str(rate.definition.definition),
                "numerator": rate.numerator,
                "denominator": rate.denominator,
                "value": _value(rate.value),
            }
            for rate in figures.rates
        ],
    }


def _node_out(node: Any) -> dict[str, Any]:
    return {"id": node.pk, "name": node.name, "kind": node.kind}


@router.get("/stats/rates", response={200: RatesOut, **SCOPED_ERRORS}, summary="The three rates of a node")
def stats_rates(request: HttpRequest, params: Query[PeriodParams]) -> dict[str, Any]:
    """Counts and the three rates (三率) of the tickets received in the node's subtree from `from` to
    `to`: response rate = accepted within the deadline ÷ received; resolution rate = resolved ÷
    received (and within the deadline ÷ received); satisfaction rate = (满意 + 基本满意) ÷ rated.
    A reopened or merged ticket counts once."""
    start, end = params.period()
    figures = rates_for(actor=actor_of(request), node=params.node, start=start, end=end)
    goal = targets_for(target_level(figures.node))
    found = figures_out(figures)
    for rate in found["rates"]:
        rate["target"] = str(goal[rate["id"]])
    return {**found, "node": _node_out(figures.node)}


@router.get("/stats/series", response={200: SeriesOut, **SCOPED_ERRORS}, summary="The rates by day or week")
def stats_series(request: HttpRequest, params: Query[SeriesParams]) -> dict[str, Any]:
    """The figures of `/stats/rates` per day or per week (Monday first), every bucket present."""
    start, end = params.period()
    found = series(actor=actor_of(request), node=params.node, start=start, end=end, by=params.by)
    return {"node": _node_out(found.node), "by": found.by, "points": [figures_out(p) for p in found.points]}


@router.get(
    "/stats/children",
    response={200: list[RatesOut], **SCOPED_ERRORS},
    summary="The children ranked by a rate",
)
def stats_children(request: HttpRequest, params: Query[RankingParams]) -> list[dict[str, Any]]:
    """The node's children with their figures, the one lagging most on `rate` first."""
    start, end = params.period()
    ranking = children_ranking(
        actor=actor_of(request), node=params.node, start=start, end=end, rate=params.rate
    )
    return [{**figures_out(figures), "node": _node_out(figures.node)} for figures in ranking]


@router.get(
    "/stats/departments",
    response={200: list[DepartmentOut], **SCOPED_ERRORS},
    summary="Departments summoned on a node's tickets",
)
def stats_departments(request: HttpRequest, params: Query[PeriodParams]) -> list[Any]:
    """Whistles (吹哨) by department on the tickets received in the node's subtree from `from` to `to`:
    summonses, report-ins (报到) and late report-ins, the most summoned department first."""
    start, end = params.period()
    return whistles_by_department(actor=actor_of(request), node=params.node, start=start, end=end)


# --- Breakdowns, durations, open tickets, hot topics ------------------------------------------------


class ShareOut(Schema):
    value: str = Field(description="The kind, channel or level code, or the category id.")
    label: str
    count: int
    percent: str | None = Field(description="Of the tickets received, to one decimal; null when none.")


class DurationOut(Schema):
    id: str
    name: str
    definition: str
    count: int = Field(description="The tickets (or summonses) timed.")
    median_minutes: float | None = Field(description="Within 10 % of the exact median; null when none.")
    p90_minutes: float | None = Field(description="Within 10 % of the exact 90th percentile; null when none.")


class BreakdownOut(Schema):
    node: NodeOut
    start: dt.date
    end: dt.date
    received: int
    kind: list[ShareOut]
    category: list[ShareOut]
    channel: list[ShareOut]
    level: list[ShareOut]
    durations: list[DurationOut]


class DurationsOut(Schema):
    node: NodeOut
    start: dt.date
    end: dt.date
    durations: list[DurationOut]


class OpenOut(Schema):
    node: NodeOut
    awaiting_response: int
    awaiting_resolution: int
    total: int


class OpenByChildOut(OpenOut):
    children: list[OpenOut]


class TopicOut(Schema):
    label: str
    this_week: int
    last_week: int = Field(description="On the same days of last week.")


class HotTopicsOut(Schema):
    node: NodeOut
    week_start: dt.date
    today: dt.date
    terms: list[TopicOut]
    categories: list[TopicOut]


class NodeParams(Schema):
    node: int = Field(description="A territory node (grid or above) in the caller's scope.")


def duration_out(duration: Duration) -> dict[str, Any]:
    return {
        "id": duration.definition.id,
        "name": str(duration.definition.name),
        "definition": str(duration.definition.definition),
        "count": duration.count,
        "median_minutes": None if duration.median is None else round(duration.median, 1),
        "p90_minutes": None if duration.p90 is None else round(duration.p90, 1),
    }


@router.get(
    "/stats/breakdown",
    response={200: BreakdownOut, **SCOPED_ERRORS},
    summary="Counts by kind, category, channel and level, and the times to respond and to resolve",
)
def stats_breakdown(request: HttpRequest, params: Query[PeriodParams]) -> dict[str, Any]:
    """The tickets received in the node's subtree from `from` to `to`, counted by kind, category,
    channel and the highest level that handled them (most first), with the median and 90th
    percentile times to respond and to resolve."""
    start, end = params.period()
    actor = actor_of(request)
    node = node_in_scope(actor, params.node)
    found = breakdown(actor=actor, node=node, start=start, end=end)
    shares = {
        dimension: [
            {
                "value": s.value,
                "label": s.label,
                "count": s.count,
                "percent": None if s.percent is None else str(s.percent),
            }
            for s in rows
        ]
        for dimension, rows in found.dimensions.items()
    }
    return {
        "node": _node_out(node),
        "start": start,
        "end": end,
        "received": found.received,
        **shares,
        "durations": [duration_out(d) for d in found.durations.values()],
    }


@router.get(
    "/stats/durations",
    response={200: DurationsOut, **SCOPED_ERRORS},
    summary="Median and 90th percentile time to respond and to resolve",
)
def stats_durations(request: HttpRequest, params: Query[PeriodParams]) -> dict[str, Any]:
    """Time to respond: from the submission to the first acceptance; time to resolve: from the
    submission to the latest resolution; of the tickets received from `from` to `to`."""
    start, end = params.period()
    actor = actor_of(request)
    node = node_in_scope(actor, params.node)
    found = durations_for(actor=actor, node=node, start=start, end=end)
    return {
        "node": _node_out(node),
        "start": start,
        "end": end,
        "durations": [duration_out(d) for d in found.values()],
    }


@router.get(
    "/stats/open",
    response={200: OpenByChildOut, **SCOPED_ERRORS},
    summary="Tickets open now under a node and under each of its children",
)
def stats_open(request: HttpRequest, params: Query[NodeParams]) -> dict[str, Any]:
    """Open now: waiting for a response (submitted, reopened) or being handled (accepted, in
    progress), under the node and under each child (a grid: each compound or building)."""
    found = open_by_child(actor=actor_of(request), node=params.node)

    def out(row: Any) -> dict[str, Any]:
        return {
            "node": _node_out(row.node),
            "awaiting_response": row.awaiting_response,
            "awaiting_resolution": row.awaiting_resolution,
            "total": row.total,
        }

    return {**out(found.total), "children": [out(row) for row in found.children]}


@router.get("/stats/hot-topics", response={200: HotTopicsOut, **SCOPED_ERRORS}, summary="Hot topics")
def stats_hot_topics(request: HttpRequest, params: Query[NodeParams]) -> dict[str, Any]:
    """The most frequent words (once per ticket) and categories of the tickets received under the
    node this week so far, each with its count on the same days of last week."""
    actor = actor_of(request)
    node = node_in_scope(actor, params.node)
    found: HotTopics = hot_topics(actor=actor, node=node)
    return {
        "node": _node_out(node),
        "week_start": found.week_start,
        "today": found.today,
        "terms": [topic.__dict__ for topic in found.terms],
        "categories": [topic.__dict__ for topic in found.categories],
    }


# --- A department's own figures -------------------------------------------------------------------


class DepartmentFiguresOut(FiguresOut):
    department_id: int
    name: str
    summoned: int
    reported_in: int
    reported_late: int
    report_in: DurationOut
    weeks: list[FiguresOut]


@router.get(
    "/stats/departments/{department_id}",
    response={200: DepartmentFiguresOut, **SCOPED_ERRORS},
    summary="A department's figures: the rates of the tickets it was summoned on, its report-ins",
)
def stats_department(request: HttpRequest, department_id: int, params: Query[DatesParams]) -> dict[str, Any]:
    """For the department's own handlers: the three rates of the tickets received from `from` to
    `to` that summoned it (each ticket once), weekly, its summonses and its time to report in."""
    start, end = params.period()
    actor = actor_of(request)
    found = department_figures(actor=actor, organization=department_id, start=start, end=end)
    organization = found.organization
    assert organization is not None and found.report_in is not None
    weeks = department_series(actor=actor, organization=organization, start=start, end=end, by="week")
    return {
        **figures_out(found),
        "department_id": organization.pk,
        "name": organization.name,
        "summoned": found.summoned,
        "reported_in": found.reported_in,
        "reported_late": found.reported_late,
        "report_in": duration_out(found.report_in),
        "weeks": [figures_out(point) for point in weeks],
    }
