"""/api/v1/stats: the three rates (三率) of a node and their series, from the roll-ups, scoped.

Every figure is about the tickets *received* (submitted) in the period, with their outcomes as they
stand now; each rate carries its definition, and its exact numerator and denominator. A node
outside the caller's scope answers 404.
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
from gongzhi.insight.selectors import (
    Counts,
    Figures,
    children_ranking,
    rates_for,
    series,
    whistles_by_department,
)

router = Router(tags=["stats"])


class PeriodParams(Schema):
    node: int = Field(description="A territory node (grid or above) in the caller's scope.")
    from_: dt.date | None = Field(
        None, alias="from", description="First day (local date, inclusive); the month's first day."
    )
    to: dt.date | None = Field(None, description="Last day (local date, inclusive); today.")

    def period(self) -> tuple[dt.date, dt.date]:
        end = self.to or clock.today()
        return self.from_ or end.replace(day=1), end


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
    return {**figures_out(figures), "node": _node_out(figures.node)}


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
