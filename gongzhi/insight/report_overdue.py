"""The overdue matters of a monthly report and why they are overdue, as they stood at the month's end.

A report for a past month must not change when it is made again: it is about the tickets received in
the month that were overdue at its end (the `cutoff`), rebuilt from their append-only events up to
that moment, not about today's backlog. Today's state only marks which of them are still open now.

A ticket was overdue at the cutoff when it was then waiting for an acceptance (submitted or reopened)
or for a resolution (accepted, in progress), and the deadline of that wait had passed: the deadline
the round set (submission or reopening, plus the category's time), or earlier if the sweep had
already escalated or reminded for it. The reasons reported upward come from the same events: how
late, the level that held it, the escalations and reminders (催办), the departments summoned (吹哨)
and whether they reported in (报到), and the handler's latest note.

Three queries whatever the size (four above a community: the grids' communities): the candidate
tickets (open now, or left an open state after the cutoff), their events up to the cutoff, and
their summonses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import Actor
from gongzhi.core import clock, redact
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.deadlines import add_duration
from gongzhi.tickets.models import EventAction, Summons, Ticket, TicketEvent
from gongzhi.tickets.selectors import TicketFilters, ticket_list
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE, OPEN_STATES, Level, TicketState

NOTE_CHARACTERS = 80  # the handler's latest note, cut to a table cell's length
ROUND_STARTS = (EventAction.SUBMITTED, EventAction.REOPENED)
# Notes by people at work on the ticket (not the resident's rating comment, not the system's).
HANDLER_NOTE_ACTIONS = frozenset(
    {
        EventAction.ACCEPTED,
        EventAction.STARTED,
        EventAction.COMMENTED,
        EventAction.WHISTLED,
        EventAction.REPORTED_IN,
        EventAction.DEPARTMENT_ACTED,
    }
)


@dataclass(frozen=True)
class DepartmentCall:
    """One department summoned (吹哨) to the ticket before the cutoff, and its report-in (报到)."""

    name: str
    due_at: dt.datetime
    reported_at: dt.datetime | None  # None: not reported in by the cutoff

    @property
    def reported_late(self) -> bool:
        return self.reported_at is not None and self.reported_at > self.due_at


@dataclass(frozen=True)
class OverdueMatter:
    number: str
    category: str
    grid: str
    submitted_at: dt.datetime  # local time
    waiting_for: str  # "response" (not accepted in time) or "resolution" (not resolved in time)
    due_at: dt.datetime  # the deadline missed, local time
    late: dt.timedelta  # how late at the cutoff
    level: int  # the level that held it at the cutoff
    escalations: int  # up to the cutoff
    reminders: int  # 催办, up to the cutoff (to the handler or to a summoned department)
    departments: tuple[DepartmentCall, ...]
    latest_note: str  # the handler's latest note up to the cutoff, personal data masked; "" if none
    still_open: bool  # open now, when the report is made
    resolved_at: dt.datetime | None  # local time, when it has been resolved since

    @property
    def why(self) -> str:
        return _("Not accepted in time") if self.waiting_for == "response" else _("Not resolved in time")

    @property
    def level_name(self) -> str:
        return str(Level(self.level).label)


@dataclass(frozen=True)
class Overdue:
    cutoff: dt.datetime  # local time
    matters: list[OverdueMatter]  # longest overdue first

    @property
    def total(self) -> int:
        return len(self.matters)

    @property
    def still_open(self) -> int:
        return sum(1 for matter in self.matters if matter.still_open)

    @property
    def not_accepted(self) -> int:
        return sum(1 for matter in self.matters if matter.waiting_for == "response")

    @property
    def not_resolved(self) -> int:
        return self.total - self.not_accepted


def _candidates(
    actor: Actor, node: Node, start: dt.datetime, end: dt.datetime, cutoff: dt.datetime
) -> list[Ticket]:
    """The tickets received in [start, end) that may have been open at the cutoff: those open now,
    and those that left an open state after it (a ticket resolved before the cutoff is not one)."""
    left_open_later = TicketEvent.objects.filter(
        ticket_id=OuterRef("pk"), at__gt=cutoff, from_state__in=list(OPEN_STATES)
    )
    tickets = (
        ticket_list(actor=actor, filters=TicketFilters(node_id=node.pk))
        .filter(submitted_at__gte=start, submitted_at__lt=end)
        .filter(Q(state__in=list(OPEN_STATES)) | Exists(left_open_later))
        .select_related("grid")
        .only(
            "pk",
            "number",
            "state",
            "level",
            "submitted_at",
            "resolved_at",
            "reporter_name",
            "category__name",
            "category__response_minutes",
            "category__resolution_minutes",
            "category__counting",
            "grid__name",
            "grid__path",
            "grid__depth",
            "node__path",
            "owner_node__path",
            "assignee__id",
        )
        .order_by("submitted_at", "pk")
    )
    return list(tickets)


def _events(tickets: list[Ticket], cutoff: dt.datetime) -> dict[int, list[TicketEvent]]:
    found: dict[int, list[TicketEvent]] = defaultdict(list)
    if not tickets:
        return found
    rows = (
        TicketEvent.objects.filter(ticket_id__in=[t.pk for t in tickets], at__lte=cutoff)
        .only("ticket_id", "at", "action", "actor_label", "to_state", "to_level", "note", "data")
        .order_by("ticket_id", "at", "pk")
    )
    for event in rows:
        found[event.ticket_id].append(event)
    return found


def _departments(tickets: list[Ticket], cutoff: dt.datetime) -> dict[int, list[DepartmentCall]]:
    found: dict[int, list[DepartmentCall]] = defaultdict(list)
    if not tickets:
        return found
    rows = (
        Summons.objects.filter(
            whistle__ticket_id__in=[t.pk for t in tickets], whistle__created_at__lte=cutoff
        )
        .order_by("whistle__created_at", "pk")
        .values_list("whistle__ticket_id", "department__name", "due_at", "reported_at")
    )
    for ticket_id, name, due_at, reported_at in rows:
        reported = reported_at if reported_at is not None and reported_at <= cutoff else None
        found[ticket_id].append(
            DepartmentCall(
                name=name,
                due_at=clock.localtime(due_at),
                reported_at=clock.localtime(reported) if reported else None,
            )
        )
    return found


def _grid_names(tickets: list[Ticket], node: Node) -> dict[int, str]:
    """Grid id → its name, with its community's before it when the report covers several
    communities (every community has a 第一网格)."""
    grids = {ticket.grid.pk: ticket.grid for ticket in tickets}
    if node.kind in (NodeKind.COMMUNITY, NodeKind.GRID):
        return {pk: grid.name for pk, grid in grids.items()}
    parents = {pk: grid.path[: (grid.depth - 1) * Node.steplen] for pk, grid in grids.items()}
    names = dict(Node.objects.filter(path__in=set(parents.values())).values_list("path", "name"))
    return {pk: f"{names.get(parents[pk], '')} {grid.name}".strip() for pk, grid in grids.items()}


def _missed_deadline(ticket: Ticket, events: list[TicketEvent], waiting_for: str) -> dt.datetime:
    """The deadline of this wait: the round's start plus the category's time, or the first escalation
    or reminder for it in the round if that came earlier (the category's time may have changed)."""
    began = next((e.at for e in reversed(events) if e.action in ROUND_STARTS), ticket.submitted_at)
    category = ticket.category
    minutes = category.response_minutes if waiting_for == "response" else category.resolution_minutes
    due = add_duration(began, minutes, category.counting)
    for event in events:
        if (
            event.at >= began
            and event.action in (EventAction.ESCALATED, EventAction.REMINDED)
            and (event.data or {}).get("overdue") == waiting_for
        ):
            return min(due, event.at)
    return due


def _matter(
    ticket: Ticket,
    events: list[TicketEvent],
    departments: list[DepartmentCall],
    cutoff: dt.datetime,
    grid: str,
) -> OverdueMatter | None:
    """The ticket as it stood at the cutoff, if it was overdue then; None otherwise."""
    state, level = TicketState.SUBMITTED.value, ticket.level
    for event in events:
        if event.to_state:
            state = event.to_state
        if event.to_level is not None:
            level = event.to_level
    if state in AWAITING_RESPONSE:
        waiting_for = "response"
    elif state in AWAITING_RESOLUTION:
        waiting_for = "resolution"
    else:
        return None
    due = _missed_deadline(ticket, events, waiting_for)
    if due >= cutoff:
        return None
    notes = [
        e.note for e in events if e.note and e.action in HANDLER_NOTE_ACTIONS and e.actor_label != "resident"
    ]
    note = redact.redact(notes[-1], names=[ticket.reporter_name]) if notes else ""
    if len(note) > NOTE_CHARACTERS:
        note = note[: NOTE_CHARACTERS - 1] + "…"
    return OverdueMatter(
        number=ticket.number,
        category=ticket.category.name,
        grid=grid,
        submitted_at=clock.localtime(ticket.submitted_at),
        waiting_for=waiting_for,
        due_at=clock.localtime(due),
        late=cutoff - due,
        level=level,
        escalations=sum(1 for e in events if e.action == EventAction.ESCALATED),
        reminders=sum(1 for e in events if e.action == EventAction.REMINDED),
        departments=tuple(departments),
        latest_note=" ".join(note.split()),
        still_open=ticket.state in OPEN_STATES,
        resolved_at=clock.localtime(ticket.resolved_at) if ticket.resolved_at else None,
    )


def overdue_at_cutoff(
    *, actor: Actor, node: Node, start: dt.datetime, end: dt.datetime, cutoff: dt.datetime
) -> Overdue:
    """The tickets of the node's subtree received in [start, end) that were overdue at `cutoff`,
    longest overdue first. The caller has checked the actor may read the node's tickets."""
    tickets = _candidates(actor, node, start, end, cutoff)
    events = _events(tickets, cutoff)
    departments = _departments(tickets, cutoff)
    grids = _grid_names(tickets, node)
    matters: Iterable[OverdueMatter | None] = (
        _matter(
            ticket, events.get(ticket.pk, []), departments.get(ticket.pk, []), cutoff, grids[ticket.grid_id]
        )
        for ticket in tickets
    )
    found = [matter for matter in matters if matter is not None]
    found.sort(key=lambda matter: (matter.due_at, matter.number))
    return Overdue(cutoff=clock.localtime(cutoff), matters=found)
