"""A community's public board (公示栏): readable by anyone, so it holds no personal data.

The month's three rates from the roll-ups, the recent tickets anonymised (category, compound or
building, status, what was done with phone-like digits removed; no names, phones or staff), and
the community's public projects (三公开). Reads here are unscoped on purpose and return only what
may be shown to the public.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Sum
from django.utils.translation import gettext as _

from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.insight.definitions import COUNT_FIELDS
from gongzhi.insight.models import DailyRollup
from gongzhi.insight.selectors import Counts, Figures
from gongzhi.meetings.models import Project
from gongzhi.meetings.selectors import public_projects
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.workflow import TicketState

RECENT_TICKETS = 12
PROJECTS = 8
# The place of a ticket is told no finer than its building (never the entrance or household).
PLACE_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING)
# Phone-like runs: 7 or more digits, possibly split by spaces or dashes (a mobile, a landline).
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s-]?\d){6,}")


@dataclass(frozen=True)
class BoardTicket:
    category: str
    place: str
    submitted_on: dt.date
    status: str
    tone: str  # waiting | working | done | stopped (the resident pages' status colours)
    outcome: str


@dataclass(frozen=True)
class Board:
    community: Node
    month: Figures
    tickets: list[BoardTicket]
    projects: list[Project]


def strip_phone_like(text: str) -> str:
    """Replace phone-like digit runs by "***": a resolution note may quote a number."""
    return _PHONE_LIKE.sub("***", text or "")


def board_community(code: str) -> Node:
    community = Node.objects.filter(code=code, kind=NodeKind.COMMUNITY).first()
    if community is None:
        raise NotFound()
    return community


def _month_figures(community: Node, today: dt.date) -> Figures:
    start = today.replace(day=1)
    row = (
        DailyRollup.objects.filter(day__gte=start, day__lte=today)
        .filter(subtree_q("grid__path", community.path))
        .aggregate(**{name: Sum(name) for name in COUNT_FIELDS})
    )
    return Figures(start=start, end=today, counts=Counts.from_row(row))


def _places(tickets: list[Ticket]) -> dict[str, str]:
    """Node path → "春都华府 1号楼", from the compound and building above (or at) each address."""
    steplen = Node.steplen
    prefixes = {t.node.path[:end] for t in tickets for end in range(steplen, len(t.node.path) + 1, steplen)}
    names = dict(
        Node.objects.filter(path__in=prefixes, kind__in=PLACE_KINDS)
        .order_by("depth")
        .values_list("path", "name")
    )
    places = {}
    for ticket in tickets:
        path = ticket.node.path
        words = [names[path[:end]] for end in range(steplen, len(path) + 1, steplen) if path[:end] in names]
        places[path] = " ".join(words)
    return places


def _recent_tickets(community: Node) -> list[BoardTicket]:
    tickets = list(
        Ticket.objects.filter(subtree_q("node__path", community.path), merged_into__isnull=True)
        .select_related("category", "node")
        .order_by("-submitted_at", "-pk")[:RECENT_TICKETS]
    )
    places = _places(tickets)
    board = []
    for t in tickets:
        status, tone = public_status(t.state)
        board.append(
            BoardTicket(
                category=t.category.name,
                place=places.get(t.node.path, ""),
                submitted_on=clock.localtime(t.submitted_at).date(),
                status=status,
                tone=tone,
                outcome=strip_phone_like(t.resolution_note),
            )
        )
    return board


def public_status(state: str) -> tuple[str, str]:
    """A ticket's status in words for the public (not addressed to its reporter)."""
    if state in (TicketState.SUBMITTED, TicketState.REOPENED):
        return _("Waiting to be accepted"), "waiting"
    if state in (TicketState.ACCEPTED, TicketState.IN_PROGRESS):
        return _("Being handled"), "working"
    if state in (TicketState.RESOLVED, TicketState.CLOSED):
        return _("Finished"), "done"
    if state == TicketState.REJECTED:
        return _("Not accepted"), "stopped"
    return _("Handled together with another ticket"), "working"


def board_for(*, code: str) -> Board:
    """The public board of the community with this code; NotFound for any other code."""
    community = board_community(code)
    return Board(
        community=community,
        month=_month_figures(community, clock.today()),
        tickets=_recent_tickets(community),
        projects=list(public_projects(community=community)[:PROJECTS]),
    )
