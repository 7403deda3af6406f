"""Reads of the three rates, always scoped by the actor, from the roll-ups only.

A node's figures are one aggregate query over the roll-up rows of the grids in its subtree and the
date range (the `daily_rollup_grid_day` index), so their cost does not grow with history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.insight.definitions import COUNT_FIELDS, RATES, RATES_BY_ID, RateDefinition, ratio
from gongzhi.insight.models import DailyRollup, DepartmentRollup
from gongzhi.territory.models import Node, NodeKind, subtree_q

MAX_DAYS = 3 * 366 + 1  # a period of up to three years
MAX_SERIES_DAYS = 366  # a daily series of up to a year
RANKED_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID)


@dataclass(frozen=True)
class Counts:
    received: int = 0
    responded: int = 0
    responded_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    reopened: int = 0
    escalated: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Counts:
        return cls(**{name: int(row.get(name) or 0) for name in COUNT_FIELDS})


@dataclass(frozen=True)
class Rate:
    definition: RateDefinition
    numerator: int
    denominator: int
    value: Fraction | None  # None: nothing to divide by ("—")


@dataclass(frozen=True)
class Figures:
    """The counts and the rates of one node over one period (or one point of a series)."""

    start: dt.date
    end: dt.date
    counts: Counts

    @property
    def rates(self) -> list[Rate]:
        return [self.rate(definition.id) for definition in RATES]

    def rate(self, rate_id: str) -> Rate:
        definition = RATES_BY_ID[rate_id]
        numerator = getattr(self.counts, definition.numerator)
        denominator = getattr(self.counts, definition.denominator)
        return Rate(definition, numerator, denominator, ratio(numerator, denominator))


@dataclass(frozen=True)
class NodeFigures(Figures):
    node: Node


@dataclass(frozen=True)
class Series:
    node: Node
    by: str
    points: list[Figures]


_SUMS = {name: Sum(name) for name in COUNT_FIELDS}


def _node(actor: Actor, node: Node | int) -> Node:
    """The node if the actor may read its tickets' figures; 404 when it is outside their scope."""
    found = node if isinstance(node, Node) else Node.objects.filter(pk=node).first()
    if found is None:
        raise NotFound()
    actor.ensure_can(Perm.VIEW_TICKETS, found.path)
    return found


def _check_period(start: dt.date, end: dt.date, max_days: int = MAX_DAYS) -> None:
    if start > end:
        raise ValidationFailed(_("The period must start before it ends."))
    if (end - start).days + 1 > max_days:
        raise ValidationFailed(_("Choose a period of at most %(days)d days.") % {"days": max_days})


def _rows(node: Node, start: dt.date, end: dt.date) -> QuerySet[DailyRollup]:
    # The day range first, then the subtree's grids (a join to the node's path, so moving a grid
    # moves its history with it).
    return DailyRollup.objects.filter(day__gte=start, day__lte=end).filter(subtree_q("grid__path", node.path))


def rates_for(*, actor: Actor, node: Node | int, start: dt.date, end: dt.date) -> NodeFigures:
    """The counts and the three rates of a node's subtree for the tickets received from `start` to
    `end` (local dates, inclusive). Two queries: the node, the aggregate."""
    _check_period(start, end)
    node = _node(actor, node)
    row = _rows(node, start, end).aggregate(**_SUMS)
    return NodeFigures(start=start, end=end, counts=Counts.from_row(row), node=node)


def _bucket(day: dt.date, by: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if by == "week" else day


def series(
    *, actor: Actor, node: Node | int, start: dt.date, end: dt.date, by: Literal["day", "week"] = "week"
) -> Series:
    """Figures per day or per week (weeks start on Monday, clipped to the period), every bucket of
    the period present, empty ones with no rates."""
    if by not in ("day", "week"):
        raise ValidationFailed(_("Group by day or by week."))
    _check_period(start, end, MAX_SERIES_DAYS if by == "day" else MAX_DAYS)
    node = _node(actor, node)
    sums: dict[dt.date, dict[str, int]] = {}
    rows: Iterable[Mapping[str, Any]] = (
        _rows(node, start, end).values("day").annotate(**_SUMS).order_by("day")
    )
    for row in rows:
        bucket = sums.setdefault(_bucket(row["day"], by), dict.fromkeys(COUNT_FIELDS, 0))
        for name in COUNT_FIELDS:
            bucket[name] += int(row[name] or 0)
    points: list[Figures] = []
    cursor = _bucket(start, by)
    step = dt.timedelta(days=7 if by == "week" else 1)
    while cursor <= end:
        last = min(cursor + step - dt.timedelta(days=1), end)
        points.append(
            Figures(start=max(cursor, start), end=last, counts=Counts.from_row(sums.get(cursor, {})))
        )
        cursor += step
    return Series(node=node, by=by, points=points)


def _sort_key(figures: NodeFigures, rate_id: str) -> tuple[int, Fraction, str]:
    value = figures.rate(rate_id).value
    return (value is None, value if value is not None else Fraction(0), figures.node.path)


def children_ranking(
    *, actor: Actor, node: Node | int, start: dt.date, end: dt.date, rate: str = "resolution"
) -> list[NodeFigures]:
    """The node's children with their figures, the lagging one first by `rate` (no rate last).
    Three queries: the node, its children, one aggregate grouped by child."""
    if rate not in RATES_BY_ID:
        raise ValidationFailed(_("Unknown rate."))
    _check_period(start, end)
    node = _node(actor, node)
    # Only the levels that hold grids have figures of their own; below a grid there is nothing to rank.
    children = list(
        Node.objects.filter(subtree_q("path", node.path), depth=node.depth + 1, kind__in=RANKED_KINDS)
    )
    if not children:
        return []
    width = (node.depth + 1) * Node.steplen
    grouped = (
        _rows(node, start, end)
        .annotate(child=Substr("grid__path", 1, width))
        .values("child")
        .annotate(**_SUMS)
        .order_by()
    )
    by_path = {row["child"]: Counts.from_row(row) for row in grouped}
    ranking = [
        NodeFigures(start=start, end=end, counts=by_path.get(child.path, Counts()), node=child)
        for child in children
    ]
    return sorted(ranking, key=lambda figures: _sort_key(figures, rate))


@dataclass(frozen=True)
class DepartmentFigures:
    """Summonses (吹哨) of one department on the tickets of a node's subtree received in a period."""

    department_id: int
    name: str
    summoned: int
    reported_in: int
    reported_late: int

    @property
    def reported_on_time(self) -> int:
        return self.reported_in - self.reported_late


def whistles_by_department(
    *, actor: Actor, node: Node | int, start: dt.date, end: dt.date
) -> list[DepartmentFigures]:
    """Departments summoned on the node's tickets, most summoned first. Two queries."""
    _check_period(start, end)
    node = _node(actor, node)
    rows = (
        DepartmentRollup.objects.filter(day__gte=start, day__lte=end)
        .filter(subtree_q("grid__path", node.path))
        .values("department_id", "department__name")
        .annotate(
            summoned=Sum("summoned"), reported_in=Sum("reported_in"), reported_late=Sum("reported_late")
        )
        .order_by("-summoned", "department__name")
    )
    return [
        DepartmentFigures(
            department_id=row["department_id"],
            name=row["department__name"],
            summoned=int(row["summoned"] or 0),
            reported_in=int(row["reported_in"] or 0),
            reported_late=int(row["reported_late"] or 0),
        )
        for row in rows
    ]
