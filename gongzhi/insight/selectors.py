"""Reads of the three rates and every other dashboard figure, always scoped by the actor, from the
roll-ups (and, for the overdue list and a grid's open tickets, from the tickets' partial indexes).

Each read is bounded by what the page shows, not by history nor by the district's volume: a node's
figures over a period are at most one `NodeDailyRollup` row per day, a breakdown a few rows per day,
the children's figures one row per child and day, the open counts one row per child. The overdue
list reads the overdue tickets of the node's own grids, most overdue first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.insight.definitions import (
    COUNT_FIELDS,
    DASHBOARD_KINDS,
    DEFAULT_TARGETS,
    DIMENSIONS,
    DURATIONS,
    MEDIAN,
    P90,
    RATES,
    RATES_BY_ID,
    TIME_TO_REPORT_IN,
    CountFields,
    DurationDefinition,
    RateDefinition,
    bucket_minutes,
    quantile_bucket,
    ratio,
)
from gongzhi.insight.models import (
    DepartmentDailyRollup,
    DepartmentRollup,
    DepartmentWaitRollup,
    NodeDailyRollup,
    NodeDimensionRollup,
    NodeOpenRollup,
    RateTarget,
    TicketFacts,
)
from gongzhi.territory.models import Node, NodeKind, Organization, OrganizationKind, subtree_q
from gongzhi.tickets.models import Category, Channel, Ticket, TicketKind
from gongzhi.tickets.services.sweep import due_listing, partial_index_condition
from gongzhi.tickets.workflow import Level

MAX_DAYS = 3 * 366 + 1  # a period of up to three years
MAX_SERIES_DAYS = 366  # a daily series of up to a year
RANKED_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID)


@dataclass(kw_only=True)
class Counts(CountFields):
    """Counts summed over roll-up rows."""

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


def node_in_scope(actor: Actor, node: Node | int) -> Node:
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


def _days(rows: QuerySet[Any], start: dt.date, end: dt.date) -> QuerySet[Any]:
    return rows.filter(day__gte=start, day__lte=end)


def _daily(node: Node) -> QuerySet[NodeDailyRollup]:
    """The node's own daily rows; a node below the grids (a compound, a building) has none."""
    return (
        NodeDailyRollup.objects.filter(node=node)
        if node.kind in DASHBOARD_KINDS
        else NodeDailyRollup.objects.none()
    )


def rates_for(*, actor: Actor, node: Node | int, start: dt.date, end: dt.date) -> NodeFigures:
    """The counts and the three rates of a node's subtree for the tickets received from `start` to
    `end` (local dates, inclusive). Two queries: the node, the sum of at most one row per day."""
    _check_period(start, end)
    node = node_in_scope(actor, node)
    row = _days(_daily(node), start, end).aggregate(**_SUMS)
    return NodeFigures(start=start, end=end, counts=Counts.from_row(row), node=node)


def _bucket(day: dt.date, by: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if by == "week" else day


def _points(
    sums: Mapping[dt.date, Mapping[str, int]], start: dt.date, end: dt.date, by: str
) -> list[Figures]:
    points: list[Figures] = []
    cursor = _bucket(start, by)
    step = dt.timedelta(days=7 if by == "week" else 1)
    while cursor <= end:
        last = min(cursor + step - dt.timedelta(days=1), end)
        points.append(
            Figures(start=max(cursor, start), end=last, counts=Counts.from_row(sums.get(cursor, {})))
        )
        cursor += step
    return points


def _bucketed(
    rows: Iterable[Mapping[str, Any]], by: str, fields: Sequence[str]
) -> dict[dt.date, dict[str, int]]:
    sums: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        bucket = sums.setdefault(_bucket(row["day"], by), dict.fromkeys(fields, 0))
        for name in fields:
            bucket[name] += int(row[name] or 0)
    return sums


def _check_by(by: str, start: dt.date, end: dt.date) -> None:
    if by not in ("day", "week"):
        raise ValidationFailed(_("Group by day or by week."))
    _check_period(start, end, MAX_SERIES_DAYS if by == "day" else MAX_DAYS)


def series(
    *, actor: Actor, node: Node | int, start: dt.date, end: dt.date, by: Literal["day", "week"] = "week"
) -> Series:
    """Figures per day or per week (weeks start on Monday, clipped to the period), every bucket of
    the period present, empty ones with no rates. One row per day is read."""
    _check_by(by, start, end)
    node = node_in_scope(actor, node)
    rows = _days(_daily(node), start, end).values("day", *COUNT_FIELDS).order_by("day")
    return Series(node=node, by=by, points=_points(_bucketed(rows, by, COUNT_FIELDS), start, end, by))


def _sort_key(figures: NodeFigures, rate_id: str) -> tuple[int, Fraction, str]:
    value = figures.rate(rate_id).value
    return (value is None, value if value is not None else Fraction(0), figures.node.path)


def dashboard_children(node: Node) -> list[Node]:
    """The children with figures of their own (a subdistrict's communities, a community's grids);
    a grid's children (compounds, buildings) for its open-ticket counts."""
    kinds = (
        RANKED_KINDS
        if node.kind != NodeKind.GRID
        else [kind for kind in NodeKind.values if kind not in DASHBOARD_KINDS]
    )
    return list(
        Node.objects.filter(subtree_q("path", node.path), depth=node.depth + 1, kind__in=kinds).order_by(
            "path"
        )
    )


def children_ranking(
    *,
    actor: Actor,
    node: Node | int,
    start: dt.date,
    end: dt.date,
    rate: str = "resolution",
    children: Sequence[Node] | None = None,
) -> list[NodeFigures]:
    """The node's children with their figures, the lagging one first by `rate` (no rate last).
    Three queries (the node, its children unless given, one sum per child over its daily rows)."""
    if rate not in RATES_BY_ID:
        raise ValidationFailed(_("Unknown rate."))
    _check_period(start, end)
    node = node_in_scope(actor, node)
    if node.kind == NodeKind.GRID:
        return []  # below a grid there is nothing to rank
    children = [
        child
        for child in (children if children is not None else dashboard_children(node))
        if child.kind in RANKED_KINDS
    ]
    if not children:
        return []
    grouped = (
        _days(NodeDailyRollup.objects.filter(node__in=[child.pk for child in children]), start, end)
        .values("node_id")
        .annotate(**_SUMS)
        .order_by()
    )
    by_node = {row["node_id"]: Counts.from_row(row) for row in grouped}
    ranking = [
        NodeFigures(start=start, end=end, counts=by_node.get(child.pk, Counts()), node=child)
        for child in children
    ]
    return sorted(ranking, key=lambda figures: _sort_key(figures, rate))


# --- Breakdowns and durations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    value: str
    label: str
    count: int
    of: int  # the tickets received in the period

    @property
    def percent(self) -> Decimal | None:
        if not self.of:
            return None
        return (Decimal(self.count) * 100 / Decimal(self.of)).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Duration:
    """The median and 90th percentile of one duration over a period, in minutes (bucket middles)."""

    definition: DurationDefinition
    count: int  # the tickets (or summonses) timed
    median: float | None
    p90: float | None
    histogram: dict[int, int] = field(default_factory=dict)


def duration_of(definition: DurationDefinition, histogram: Mapping[int, int]) -> Duration:
    median, p90 = quantile_bucket(histogram, MEDIAN), quantile_bucket(histogram, P90)
    return Duration(
        definition=definition,
        count=sum(histogram.values()),
        median=None if median is None else bucket_minutes(median),
        p90=None if p90 is None else bucket_minutes(p90),
        histogram=dict(histogram),
    )


@dataclass(frozen=True)
class Breakdown:
    """Tickets received under a node in a period by kind, category, channel and level (most first),
    and the times to respond and to resolve."""

    start: dt.date
    end: dt.date
    received: int
    dimensions: dict[str, list[Share]]
    durations: dict[str, Duration]


DIMENSION_LABELS: dict[str, Any] = {
    "kind": dict(TicketKind.choices),
    "channel": dict(Channel.choices),
    "level": {str(value): label for value, label in Level.choices},
}


def category_names() -> dict[str, str]:
    """Every category's name by its id as text (the roll-ups' value): a few dozen rows."""
    return {str(pk): name for pk, name in Category.objects.order_by().values_list("pk", "name")}


def _dimension_totals(
    node: Node, start: dt.date, end: dt.date, dimensions: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Tickets by value of each dimension (kind, category, channel, level; respond / resolve
    buckets) over a period: one query over a few rows per day; a grid's from its own facts."""
    found: dict[str, dict[str, int]] = {dimension: {} for dimension in dimensions}
    if node.kind == NodeKind.GRID:
        fields = (
            "kind",
            "category_id",
            "channel",
            "level",
            "received",
            "responded",
            "respond_bucket",
            "resolved",
            "resolve_bucket",
        )
        rows = (
            _days(TicketFacts.objects.filter(grid=node), start, end)
            .values(*fields)
            .annotate(tickets=Count("pk"))
            .order_by()
        )
        for row in rows:
            values = {
                "kind": row["kind"] if row["received"] else None,
                "category": str(row["category_id"]) if row["received"] else None,
                "channel": row["channel"] if row["received"] else None,
                "level": str(row["level"]) if row["received"] else None,
                "respond": str(row["respond_bucket"])
                if row["responded"] and row["respond_bucket"] is not None
                else None,
                "resolve": str(row["resolve_bucket"])
                if row["resolved"] and row["resolve_bucket"] is not None
                else None,
            }
            for dimension in dimensions:
                value = values[dimension]
                if value is not None:
                    found[dimension][value] = found[dimension].get(value, 0) + row["tickets"]
    elif node.kind in DASHBOARD_KINDS:
        rows = (
            _days(NodeDimensionRollup.objects.filter(node=node, dimension__in=list(dimensions)), start, end)
            .values("dimension", "value")
            .annotate(total=Sum("count"))
            .order_by()
        )
        for row in rows:
            found[row["dimension"]][row["value"]] = int(row["total"] or 0)
    return found


def breakdown(
    *, actor: Actor, node: Node | int, start: dt.date, end: dt.date, names: Mapping[str, str] | None = None
) -> Breakdown:
    """Counts by kind, category, channel and level and the duration histograms of the tickets
    received from `start` to `end`: one query over a few rows per day (and one for the category
    names unless given)."""
    _check_period(start, end)
    node = node_in_scope(actor, node)
    found = _dimension_totals(node, start, end, (*DIMENSIONS, *(d.id for d in DURATIONS)))
    received = sum(found["kind"].values())
    labels = {**DIMENSION_LABELS, "category": names if names is not None else category_names()}
    dimensions = {
        dimension: sorted(
            (
                Share(value, str(labels[dimension].get(value, value)), count, received)
                for value, count in found[dimension].items()
                if count
            ),
            key=lambda share: (-share.count, share.label),
        )
        for dimension in DIMENSIONS
    }
    durations = {
        definition.id: duration_of(
            definition, {int(value): count for value, count in found[definition.id].items() if count}
        )
        for definition in DURATIONS
    }
    return Breakdown(start=start, end=end, received=received, dimensions=dimensions, durations=durations)


def durations_for(*, actor: Actor, node: Node | int, start: dt.date, end: dt.date) -> dict[str, Duration]:
    """The times to respond and to resolve only (e.g. of the period before): one query."""
    _check_period(start, end)
    node = node_in_scope(actor, node)
    found = _dimension_totals(node, start, end, [definition.id for definition in DURATIONS])
    return {
        definition.id: duration_of(
            definition, {int(value): count for value, count in found[definition.id].items()}
        )
        for definition in DURATIONS
    }


# --- Open and overdue tickets ---------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCount:
    node: Node
    awaiting_response: int
    awaiting_resolution: int

    @property
    def total(self) -> int:
        return self.awaiting_response + self.awaiting_resolution


@dataclass(frozen=True)
class OpenFigures:
    """Tickets open now under a node, and under each of its children (the map)."""

    total: OpenCount
    children: list[OpenCount]


def _grid_open_by_child(grid: Node, children: Sequence[Node]) -> dict[int, tuple[int, int]]:
    """A grid's open tickets by the child (compound, building) their address lies under, through
    the grid's partial indexes of open tickets."""
    width = (grid.depth + 1) * Node.steplen
    by_path = {child.path: child.pk for child in children}
    found: dict[int, tuple[int, int]] = {}
    for index, field_name in (
        ("ticket_response_due_open", "response_due_at"),
        ("ticket_resolution_due_open", "resolution_due_at"),
    ):
        rows = (
            Ticket.objects.filter(partial_index_condition(index), grid=grid)
            .annotate(child=Substr("node__path", 1, width))
            .values("child")
            .annotate(tickets=Count("pk"))
            .order_by()
        )
        for row in rows:
            child = by_path.get(row["child"])
            if child is None:
                continue
            waiting, working = found.get(child, (0, 0))
            found[child] = (
                (waiting + row["tickets"], working)
                if field_name == "response_due_at"
                else (waiting, working + row["tickets"])
            )
    return found


def open_by_child(*, actor: Actor, node: Node | int, children: Sequence[Node] | None = None) -> OpenFigures:
    """The tickets open now under the node and under each child, from the open-tickets roll-up (one
    query); under a grid, by compound or building from the grid's open tickets (two more)."""
    node = node_in_scope(actor, node)
    children = list(children) if children is not None else dashboard_children(node)
    ids = [node.pk] + [child.pk for child in children if child.kind in DASHBOARD_KINDS]
    rows = {
        row.node_id: (row.awaiting_response, row.awaiting_resolution)
        for row in NodeOpenRollup.objects.filter(node_id__in=ids)
    }
    if node.kind == NodeKind.GRID and children:
        rows.update(_grid_open_by_child(node, children))
    total = OpenCount(node, *rows.get(node.pk, (0, 0)))
    return OpenFigures(
        total=total,
        children=[OpenCount(child, *rows.get(child.pk, (0, 0))) for child in children],
    )


@dataclass(frozen=True)
class OverdueTickets:
    tickets: list[Ticket]  # most overdue first; each with `deadline` and `overdue_by` set
    total: int


def _grid_ids(node: Node) -> list[int]:
    """The grids of the node's subtree (one range of the (kind, path) index; a grid: itself)."""
    if node.kind == NodeKind.GRID:
        return [node.pk]
    return list(
        Node.objects.filter(subtree_q("path", node.path), kind=NodeKind.GRID).values_list("pk", flat=True)
    )


OVERDUE_FIELDS = (
    "pk",
    "number",
    "state",
    "grid_id",
    "response_due_at",
    "resolution_due_at",
    "category__name",
    "node__name",
)


def overdue_tickets(*, actor: Actor, node: Node | int, limit: int = 20) -> OverdueTickets:
    """The tickets under the node past their response or resolution deadline, most overdue first.
    Reads the node's own grids' overdue tickets through the partial (grid, deadline) indexes of open
    tickets: the grids, two listings of at most `limit` rows, and a count only when a listing is full."""
    node = node_in_scope(actor, node)
    now = clock.now()
    grids = _grid_ids(node)
    found: list[Ticket] = []
    total = 0
    for index, field_name in (
        ("ticket_response_due_open", "response_due_at"),
        ("ticket_resolution_due_open", "resolution_due_at"),
    ):
        overdue = due_listing(index, field_name, now).filter(grid_id__in=grids, **{f"{field_name}__lt": now})
        listed = list(overdue.select_related("category", "node").only(*OVERDUE_FIELDS)[:limit])
        for ticket in listed:
            ticket.deadline = getattr(ticket, field_name)  # type: ignore[attr-defined]
            ticket.overdue_by = now - ticket.deadline  # type: ignore[attr-defined]
        found.extend(listed)
        total += len(listed) if len(listed) < limit else overdue.count()
    found.sort(key=lambda ticket: (ticket.deadline, ticket.pk))  # type: ignore[attr-defined]
    return OverdueTickets(tickets=found[:limit], total=total)


# --- Departments ----------------------------------------------------------------------------------


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
    node = node_in_scope(actor, node)
    rows = (
        _days(DepartmentRollup.objects.filter(node=node), start, end)
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


def department_get(*, actor: Actor, organization_id: int) -> Organization:
    """A department whose figures the actor may read: its own handlers (and superusers); 404 else."""
    if not actor.is_superuser and organization_id not in actor.organization_ids(Role.DEPARTMENT_HANDLER):
        raise NotFound()
    organization = Organization.objects.filter(pk=organization_id, kind=OrganizationKind.DEPARTMENT).first()
    if organization is None:
        raise NotFound()
    return organization


@dataclass(frozen=True)
class DepartmentPeriod(Figures):
    """The tickets a department was summoned on, received in a period: their counts and rates
    (each ticket once), the department's summonses, and its times to report in."""

    organization: Organization | None = None
    summoned: int = 0
    reported_in: int = 0
    reported_late: int = 0
    report_in: Duration | None = None

    @property
    def reported_on_time(self) -> int:
        return self.reported_in - self.reported_late


_DEPARTMENT_FIELDS = (*COUNT_FIELDS, "summoned", "reported_in", "reported_late")


def department_figures(
    *, actor: Actor, organization: Organization | int, start: dt.date, end: dt.date
) -> DepartmentPeriod:
    """Two queries: the sums of the department's daily rows, its report-in histogram."""
    _check_period(start, end)
    if not isinstance(organization, Organization):
        organization = department_get(actor=actor, organization_id=organization)
    elif not actor.is_superuser and organization.pk not in actor.organization_ids(Role.DEPARTMENT_HANDLER):
        raise NotFound()
    row = _days(DepartmentDailyRollup.objects.filter(department=organization), start, end).aggregate(
        **{name: Sum(name) for name in _DEPARTMENT_FIELDS}
    )
    waits = (
        _days(DepartmentWaitRollup.objects.filter(department=organization), start, end)
        .values("bucket")
        .annotate(total=Sum("count"))
        .order_by()
    )
    return DepartmentPeriod(
        start=start,
        end=end,
        counts=Counts.from_row(row),
        organization=organization,
        summoned=int(row["summoned"] or 0),
        reported_in=int(row["reported_in"] or 0),
        reported_late=int(row["reported_late"] or 0),
        report_in=duration_of(TIME_TO_REPORT_IN, {w["bucket"]: int(w["total"] or 0) for w in waits}),
    )


def department_series(
    *,
    actor: Actor,
    organization: Organization,
    start: dt.date,
    end: dt.date,
    by: Literal["day", "week"] = "week",
) -> list[Figures]:
    """The rates of the tickets the department was summoned on, per day or week. One query."""
    _check_by(by, start, end)
    if not actor.is_superuser and organization.pk not in actor.organization_ids(Role.DEPARTMENT_HANDLER):
        raise NotFound()
    rows = (
        _days(DepartmentDailyRollup.objects.filter(department=organization), start, end)
        .values("day", *COUNT_FIELDS)
        .order_by("day")
    )
    return _points(_bucketed(rows, by, COUNT_FIELDS), start, end, by)


# --- Targets --------------------------------------------------------------------------------------


def target_level(node: Node | None) -> str:
    """The level whose targets a node is held to (a department: "department")."""
    return "department" if node is None else str(node.kind)


def targets_for(level: str) -> dict[str, Decimal]:
    """The targets (percent) of each rate at a level: the back office's (RateTarget), else
    settings.INSIGHT_TARGETS (per rate, or per level and rate), else the defaults. One query."""
    found = {
        rate: Decimal(value) for rate, value in DEFAULT_TARGETS.get(level, DEFAULT_TARGETS["grid"]).items()
    }
    configured: Mapping[str, Any] = getattr(settings, "INSIGHT_TARGETS", {}) or {}
    for key, value in configured.items():
        if isinstance(value, Mapping):
            if key == level:
                found.update({rate: Decimal(str(percent)) for rate, percent in value.items()})
        else:
            found[key] = Decimal(str(value))
    found.update(dict(RateTarget.objects.filter(level=level).values_list("rate", "percent")))
    return found
