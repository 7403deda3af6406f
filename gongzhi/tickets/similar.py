"""Possible duplicates: open tickets near the same address saying nearly the same thing.

Shown while a ticket is written and when staff open one, so they can merge duplicates. The text
similarity (cosine over jieba tokens) is weighed with place (same entrance or building > same
compound > same grid) and time (this week > last month), with a bonus for the same category.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.territory.models import Node, NodeKind, subtree_q
from gongzhi.tickets.models import Ticket
from gongzhi.tickets.routing import ancestors_by_kind
from gongzhi.tickets.text import tokens
from gongzhi.tickets.workflow import OPEN_STATES, TicketState

WINDOW_DAYS = 30
# Open tickets, and resolved ones still waiting for their rating (a merge may join those too).
CANDIDATE_STATES = frozenset(OPEN_STATES | {TicketState.RESOLVED})
# The most recent tickets of the area that are compared; older ones in a busy grid are not.
MAX_CANDIDATES = 300
# Below these the match is noise: two leaks in one grid are not the same leak.
MIN_TEXT_SIMILARITY = 0.3
MIN_SCORE = 0.3
CATEGORY_BONUS = 0.15

# How much the place counts: the same entrance or building is most likely the same matter.
PLACE_WEIGHTS = {"entrance": 1.0, "building": 0.95, "compound": 0.8, "grid": 0.6, "area": 0.5}


@dataclass
class Similar:
    ticket: Ticket
    score: float
    reasons: list[str] = field(default_factory=list)


def cosine(left: Counter[str], right: Counter[str]) -> float:
    """Cosine similarity of two token counts, 0 (nothing shared) to 1 (the same words)."""
    if not left or not right:
        return 0.0
    dot = sum(count * right[token] for token, count in left.items() if token in right)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(c * c for c in left.values())) * math.sqrt(sum(c * c for c in right.values()))
    return dot / norm


def time_weight(age: dt.timedelta) -> float:
    """1 for a ticket submitted now, falling linearly to 0.5 at the end of the window."""
    days = min(max(age.total_seconds() / 86400, 0.0), WINDOW_DAYS)
    return 1.0 - 0.5 * days / WINDOW_DAYS


@dataclass
class _Place:
    node: Node
    # Paths of the address's entrance, building, compound and grid, where it has them.
    paths: dict[str, str]
    grid: Node | None

    @classmethod
    def of(cls, node: Node) -> _Place:
        by_kind = ancestors_by_kind(node)
        paths = {
            tier: by_kind[kind].path
            for tier, kind in (
                ("entrance", NodeKind.ENTRANCE),
                ("building", NodeKind.BUILDING),
                ("compound", NodeKind.COMPOUND),
                ("grid", NodeKind.GRID),
            )
            if kind in by_kind
        }
        return cls(node=node, paths=paths, grid=by_kind.get(NodeKind.GRID))

    def tier(self, other: Node) -> str:
        """The nearest shared place: same entrance (or the very address), building, compound, grid."""
        if other.pk == self.node.pk:
            return "entrance"
        for tier in ("entrance", "building", "compound", "grid"):
            path = self.paths.get(tier)
            if path and other.path.startswith(path):
                return tier
        return "area"


_PLACE_REASONS = {
    "entrance": lambda: _("Same address or entrance"),
    "building": lambda: _("Same building"),
    "compound": lambda: _("Same compound"),
    "grid": lambda: _("Same grid"),
    "area": lambda: _("Nearby"),
}


def _candidates(
    *, actor: Actor | None, place: _Place, exclude_id: int | None, now: dt.datetime
) -> list[Ticket]:
    tickets = Ticket.objects.all() if actor is None else Ticket.objects.visible_to(actor)
    # One indexed range: the grid's tickets by submission time (ticket_grid_submitted), or the
    # subtree of an address above any grid.
    area = Q(grid_id=place.grid.pk) if place.grid is not None else subtree_q("node__path", place.node.path)
    tickets = tickets.filter(
        area,
        submitted_at__gte=now - dt.timedelta(days=WINDOW_DAYS),
        state__in=CANDIDATE_STATES,
        merged_into__isnull=True,
    )
    if exclude_id is not None:
        tickets = tickets.exclude(pk=exclude_id)
    tickets = tickets.select_related("category", "node", "assignee").order_by("-submitted_at", "-pk")
    return list(tickets[:MAX_CANDIDATES])


def similar_open_tickets(
    *,
    actor: Actor | None = None,
    ticket: Ticket | None = None,
    text: str = "",
    node: Node | None = None,
    category_id: int | None = None,
    limit: int = 5,
) -> list[Similar]:
    """Open (or just resolved) tickets of the last 30 days near `node` whose text is like `text`,
    best first. With `ticket`, its own description, address and category are used and it is left
    out. Scoped to what `actor` may see when given. Without a place there are no duplicates."""
    if ticket is not None:
        text = text or ticket.description
        node = node or ticket.node
        category_id = category_id or ticket.category_id
    words = Counter(tokens(text))
    if node is None or not words:
        return []
    now = clock.now()
    place = _Place.of(node)
    found: list[Similar] = []
    for candidate in _candidates(
        actor=actor, place=place, exclude_id=ticket.pk if ticket is not None else None, now=now
    ):
        candidate_words = Counter(tokens(candidate.description))
        text_similarity = cosine(words, candidate_words)
        if text_similarity < MIN_TEXT_SIMILARITY:
            continue
        tier = place.tier(candidate.node)
        score = text_similarity * PLACE_WEIGHTS[tier] * time_weight(now - candidate.submitted_at)
        shared = [word for word in words if word in candidate_words]
        reasons = [
            _("Shared words: %(words)s") % {"words": "、".join(shared[:6])},
            _PLACE_REASONS[tier](),
        ]
        if category_id is not None and candidate.category_id == category_id:
            score += CATEGORY_BONUS
            reasons.append(_("Same category"))
        if score >= MIN_SCORE:
            found.append(Similar(ticket=candidate, score=round(min(score, 1.0), 3), reasons=reasons))
    found.sort(key=lambda similar: (-similar.score, -similar.ticket.submitted_at.timestamp()))
    return found[:limit]
