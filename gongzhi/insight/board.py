"""A community's public board (公示栏): readable by anyone, so it holds no personal data by design.

The month's three rates from the roll-ups (with last month's beside them), the matters finished
most recently and the newest received, anonymised, and the community's public projects (三公开). Reads here are unscoped on purpose and
return only what may be shown to the public:

- a ticket is its category, its compound and building (never the entrance or household), its day
  and its status; never the resident's description, name or phone;
- what was done is the text the resolving staff wrote *for the board* (`Ticket.public_outcome`,
  refused at writing when it holds personal data, and masked again here), or else a plain sentence
  built from the ticket's facts: the level that handled it as a role title (网格员, never a name),
  the departments summoned (organizations) and how long it took. The staff's own resolution note,
  free text for the resident and colleagues, is never shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from gongzhi.core import clock, redact
from gongzhi.core.errors import NotFound
from gongzhi.insight.definitions import COUNT_FIELDS
from gongzhi.insight.models import DailyRollup
from gongzhi.insight.selectors import Counts, Figures
from gongzhi.meetings.models import Project
from gongzhi.meetings.selectors import public_projects
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.tickets.models import Summons, Ticket
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE, Level, TicketState

RECEIVED = 6  # the newest matters received, whatever their state
FINISHED = 8  # the matters finished most recently, with what was done
# Both lists look at the tickets received in this window (the `ticket_grid_submitted` index), so the
# board's cost does not grow with the community's history; a quiet community's board looks further.
WINDOW = dt.timedelta(days=60)
PROJECTS = 8
# The place of a ticket is told no finer than its building (never the entrance or household).
PLACE_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING)
# Only what the staff wrote for the board is shown as written, and only once the matter is resolved.
SHOWN_AS_WRITTEN = frozenset({TicketState.RESOLVED, TicketState.CLOSED})


@dataclass(frozen=True)
class BoardTicket:
    category: str
    place: str
    submitted_on: dt.date
    status: str
    tone: str  # waiting | working | done | stopped (the resident pages' status colours)
    outcome: str  # the staff's text for the board, or a plain sentence built from the facts
    outcome_written: bool  # True: `outcome` is the staff's text for the board


@dataclass(frozen=True)
class Board:
    community: Node
    month: Figures
    last_month: Figures
    received: list[BoardTicket]  # newest first
    finished: list[BoardTicket]  # finished most recently first
    projects: list[Project]


def board_community(code: str) -> Node:
    community = Node.objects.filter(code=code, kind=NodeKind.COMMUNITY).first()
    if community is None:
        raise NotFound()
    return community


def _month_figures(community: Node, today: dt.date) -> tuple[Figures, Figures]:
    """This month's figures so far and last month's, in one aggregate over the roll-ups."""
    month = today.replace(day=1)
    last = (month - dt.timedelta(days=1)).replace(day=1)
    sums = {}
    for name in COUNT_FIELDS:
        sums[f"this_{name}"] = Sum(name, filter=Q(day__gte=month))
        sums[f"last_{name}"] = Sum(name, filter=Q(day__lt=month))
    row = (
        DailyRollup.objects.filter(day__gte=last, day__lte=today)
        .filter(subtree_q("grid__path", community.path))
        .aggregate(**sums)
    )
    return (
        Figures(start=month, end=today, counts=Counts.from_row({n: row[f"this_{n}"] for n in COUNT_FIELDS})),
        Figures(
            start=last,
            end=month - dt.timedelta(days=1),
            counts=Counts.from_row({n: row[f"last_{n}"] for n in COUNT_FIELDS}),
        ),
    )


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


def _departments(tickets: list[Ticket]) -> dict[int, list[str]]:
    """Ticket id → the departments summoned to it (organizations, never people), in summoning order."""
    rows = (
        Summons.objects.filter(whistle__ticket__in=[t.pk for t in tickets])
        .order_by("whistle__created_at", "pk")
        .values_list("whistle__ticket_id", "department__name")
    )
    found: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in rows:
        if name not in found[ticket_id]:
            found[ticket_id].append(name)
    return found


def role_title(level: int) -> str:
    """Who handles a ticket at a level, as a role title (never a person's name)."""
    if level == Level.GRID:
        return _("the grid worker")
    if level == Level.COMMUNITY:
        return _("the community staff")
    return _("the subdistrict staff")


def duration_words(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return _("less than an hour")
    if hours < 24:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = round(hours / 24)
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def plain_outcome(ticket: Ticket, departments: list[str]) -> str:
    """What the board says of a ticket when the staff wrote nothing for it: facts only."""
    role = role_title(ticket.level)
    names = pgettext("list separator", ", ").join(departments)
    state = ticket.state
    if state in AWAITING_RESPONSE:
        return _("Waiting for %(role)s to accept it.") % {"role": role}
    if state in AWAITING_RESOLUTION:
        if departments:
            return _("Accepted by %(role)s; %(departments)s summoned to help.") % {
                "role": role,
                "departments": names,
            }
        return _("Accepted by %(role)s and being handled.") % {"role": role}
    if state in SHOWN_AS_WRITTEN and ticket.resolved_at is not None:
        took = duration_words(ticket.resolved_at - ticket.submitted_at)
        if departments:
            return _("Resolved by %(role)s with %(departments)s in %(duration)s.") % {
                "role": role,
                "departments": names,
                "duration": took,
            }
        return _("Resolved by %(role)s in %(duration)s.") % {"role": role, "duration": took}
    if state in SHOWN_AS_WRITTEN:
        return _("Resolved by %(role)s.") % {"role": role}
    if state == TicketState.REJECTED:
        return _("Not taken up; the reason was given to the resident.")
    return ""


_BOARD_FIELDS = (
    "pk",
    "state",
    "level",
    "submitted_at",
    "resolved_at",
    "public_outcome",
    "reporter_name",  # loaded only to mask it, should the text for the board name the reporter
    "category__name",
    "node__path",
)


def _recent(community: Node) -> tuple[list[Ticket], list[Ticket]]:
    """The newest tickets received and the ones finished most recently (merged ones left out)."""
    grids = Node.objects.filter(subtree_q("path", community.path), kind=NodeKind.GRID).values("pk")
    tickets = (
        Ticket.objects.filter(grid_id__in=grids, merged_into__isnull=True)
        .select_related("category", "node")
        .only(*_BOARD_FIELDS)
    )
    recent = tickets.filter(submitted_at__gte=clock.now() - WINDOW)
    received = list(recent.order_by("-submitted_at", "-pk")[:RECEIVED])
    if len(received) < RECEIVED:  # a quiet community: look at its whole history (it is short)
        recent = tickets
        received = list(recent.order_by("-submitted_at", "-pk")[:RECEIVED])
    finished = list(
        recent.filter(state__in=list(SHOWN_AS_WRITTEN), resolved_at__isnull=False).order_by(
            "-resolved_at", "-pk"
        )[:FINISHED]
    )
    return received, finished


def _board_tickets(community: Node) -> tuple[list[BoardTicket], list[BoardTicket]]:
    received, finished = _recent(community)
    places = _places(received + finished)
    departments = _departments(received + finished)

    def shown(t: Ticket) -> BoardTicket:
        status, tone = public_status(t.state)
        written = (
            redact.redact(t.public_outcome, names=[t.reporter_name]) if t.state in SHOWN_AS_WRITTEN else ""
        )
        return BoardTicket(
            category=t.category.name,
            place=places.get(t.node.path, ""),
            submitted_on=clock.localtime(t.submitted_at).date(),
            status=status,
            tone=tone,
            outcome=written or plain_outcome(t, departments.get(t.pk, [])),
            outcome_written=bool(written),
        )

    return [shown(t) for t in received], [shown(t) for t in finished]


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
    month, last_month = _month_figures(community, clock.today())
    received, finished = _board_tickets(community)
    return Board(
        community=community,
        month=month,
        last_month=last_month,
        received=received,
        finished=finished,
        projects=list(public_projects(community=community)[:PROJECTS]),
    )
