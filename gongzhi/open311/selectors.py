"""Reads behind the Open311 API.

The GET calls are public (no key, no actor): they read every ticket, but only the fields a
stranger may see. The reporter's name, phone and e-mail are never selected into a response,
and phone numbers or e-mail addresses typed into free text are masked on the way out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from gongzhi.core import personal, redact
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.territory.models import Node, NodeKind
from gongzhi.tickets.models import Category, Ticket, TicketEvent
from gongzhi.tickets.routing import memoized
from gongzhi.tickets.selectors import category_list
from gongzhi.tickets.services.answers import active_category
from gongzhi.tickets.workflow import TicketState

# Open311 has two statuses; every ticket state falls in one.
OPEN_STATUS = frozenset(
    {TicketState.SUBMITTED, TicketState.ACCEPTED, TicketState.IN_PROGRESS, TicketState.REOPENED}
)
CLOSED_STATUS = frozenset(
    {TicketState.RESOLVED, TicketState.CLOSED, TicketState.REJECTED, TicketState.MERGED}
)
STATUS_STATES = {"open": OPEN_STATUS, "closed": CLOSED_STATUS}

MAX_REQUESTS = 1000  # the specification's response volume: 90 days or 1000 requests
WINDOW = dt.timedelta(days=90)

# Kinds an Open311 address may name: address_id and lat/long resolve to these.
ADDRESS_ID_KINDS = frozenset({NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE, NodeKind.HOUSEHOLD})
POINT_KINDS = (NodeKind.COMPOUND, NodeKind.BUILDING, NodeKind.ENTRANCE)
# Kinds written into a request's address, most specific first (grids are not part of an address).
ADDRESS_PART_KINDS = frozenset(
    {
        NodeKind.HOUSEHOLD,
        NodeKind.ENTRANCE,
        NodeKind.BUILDING,
        NodeKind.COMPOUND,
        NodeKind.COMMUNITY,
        NodeKind.SUBDISTRICT,
        NodeKind.DISTRICT,
    }
)
NEAREST_MAX_METRES = 1000  # lat/long farther than this from every known point is refused
_EARTH_METRES = 6_371_000

_ADDRESS_SEPARATORS = re.compile(r"[\s,，、/;；]+")


# --- services ------------------------------------------------------------------------------


def service_list() -> QuerySet[Category]:
    return category_list()


def service_get(code: str) -> Category:
    """The active category `code` with its questions (memoized: read-only)."""
    category = active_category(code)
    if category is None:
        raise NotFound(_("service_code %(code)s was not found.") % {"code": code})
    return category


# --- service requests ----------------------------------------------------------------------


@dataclass
class RequestFilters:
    numbers: list[str] = field(default_factory=list)  # overrides every other filter
    service_codes: list[str] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: list[str] = field(default_factory=list)


def _public_tickets() -> QuerySet[Ticket]:
    latest_note = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), is_public=True)
        .exclude(note="")
        # A resident's own words (a rating comment) may name them; staff notes explain the status.
        .exclude(actor_label="resident")
        .order_by("-at", "-pk")
        .values("note")[:1]
    )
    return (
        Ticket.objects.select_related("category", "node", "owner_node")
        .only(
            "number",
            "state",
            "description",
            "submitted_at",
            "updated_at",
            "resolved_at",
            "closed_at",
            "response_due_at",
            "resolution_due_at",
            "latitude",
            "longitude",
            # Loaded only to mask the reporter's name where they typed it into the description.
            "reporter_name",
            "category__code",
            "category__name",
            "category__response_minutes",
            "category__resolution_minutes",
            "category__counting",
            "node__code",
            "node__name",
            "node__path",
            "node__depth",
            "node__kind",
            "owner_node__name",
        )
        .annotate(status_notes=Subquery(latest_note), client_media_url=F("open311_submission__media_url"))
    )


def request_window(
    start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The requested_datetime range: the specification's default is the most recent 90 days,
    and a range may not span more than 90 days."""
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        raise ValidationFailed(_("end_date must not be before start_date."))
    if end - start > WINDOW:
        raise ValidationFailed(_("start_date and end_date may not span more than 90 days."))
    return start, end


def request_list(filters: RequestFilters, *, now: dt.datetime) -> list[Ticket]:
    """Tickets for GET requests: by number (overriding the rest), else by service, window and status."""
    tickets = _public_tickets()
    if filters.numbers:
        tickets = tickets.filter(number__in=filters.numbers[:MAX_REQUESTS])
    else:
        start, end = request_window(filters.start, filters.end, now)
        tickets = tickets.filter(submitted_at__gte=start, submitted_at__lte=end)
        if filters.service_codes:
            tickets = tickets.filter(category__code__in=filters.service_codes)
        if filters.statuses:
            states = set().union(*(STATUS_STATES[status] for status in filters.statuses))
            tickets = tickets.filter(state__in=states)
    return list(tickets.order_by("-submitted_at", "-pk")[:MAX_REQUESTS])


def request_get(number: str) -> Ticket:
    ticket = _public_tickets().filter(number=number).first()
    if ticket is None:
        raise NotFound(_("service_request_id %(id)s was not found.") % {"id": number})
    return ticket


def request_for_token(token: str) -> Ticket:
    ticket = (
        Ticket.objects.only("number", "follow_token").filter(follow_token=token).first() if token else None
    )
    if ticket is None:
        raise NotFound(_("token %(token)s was not found.") % {"token": token})
    return ticket


@dataclass(frozen=True)
class Place:
    address: str  # most specific first: "1号楼, 春都华府, 奎星楼社区, 鼓楼街道, 兖州区"
    latitude: Decimal | None  # the node's point, else its nearest ancestor's
    longitude: Decimal | None
    address_id: str  # the code of the place named: the node's, or its entrance's (building's) for a household


def places_of(nodes: Iterable[Node], *, with_household: bool = False) -> dict[int, Place]:
    """Each node's address in words and its point (or its nearest ancestor's). One query.

    Published addresses stop at the entrance (or building): a household's door would tell strangers
    which flat complained. `with_household` keeps the door, for the ticket's own words."""
    nodes = list(nodes)
    paths = {path for node in nodes for path in node.ancestor_paths}
    rows = {
        row[0]: row
        for row in Node.objects.filter(path__in=paths).values_list(
            "path", "name", "kind", "latitude", "longitude", "code"
        )
    }
    parts = ADDRESS_PART_KINDS if with_household else ADDRESS_PART_KINDS - {NodeKind.HOUSEHOLD}
    places: dict[int, Place] = {}
    for node in nodes:
        chain = [rows[path] for path in reversed(node.ancestor_paths) if path in rows]
        address = ", ".join(row[1] for row in chain if row[2] in parts)
        point = next(((row[3], row[4]) for row in chain if row[3] is not None and row[4] is not None), None)
        named = next((row for row in chain if row[2] != NodeKind.HOUSEHOLD or with_household), None)
        latitude, longitude = point or (None, None)
        places[node.pk] = Place(address, latitude, longitude, named[5] if named else "")
    return places


def public_text(text: str, *, reporter_name: str = "") -> str:
    """Free text fit for strangers: phone numbers, e-mail addresses, ID numbers and the reporter's name
    masked; door numbers and people named with a form of address (王师傅) too, since the published
    address stops at the entrance (`gongzhi.core.redact`, as on the public board)."""
    return redact.redact(personal.mask_personal_text(text, names=(reporter_name,)), names=(reporter_name,))


# --- locations -----------------------------------------------------------------------------


def node_for_address_id(address_id: str) -> Node:
    """The address node with code `address_id` (memoized, see gongzhi.tickets.routing.memoized:
    a node moved in the tree without a save is found at its old place for up to 30 s)."""
    node = memoized(
        ("open311-address", address_id),
        lambda: Node.objects.filter(code=address_id, kind__in=ADDRESS_ID_KINDS).first(),
    )
    if node is None:
        raise ValidationFailed(
            _("address_id %(id)s is not a known compound, building, entrance or household.")
            % {"id": address_id}
        )
    return node


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * _EARTH_METRES * math.asin(math.sqrt(a))


def node_near(latitude: Decimal, longitude: Decimal) -> Node | None:
    """The compound, building or entrance whose point is nearest (within 1 km), or None.

    A bounding box (±0.01°, about 1 km north–south) narrows the candidates in the database;
    the exact great-circle distance picks among them. On a tie the more specific node wins.
    """
    box = Decimal("0.01") / Decimal(str(max(math.cos(math.radians(float(latitude))), 0.01)))
    candidates = Node.objects.filter(
        kind__in=POINT_KINDS,
        latitude__gte=latitude - Decimal("0.01"),
        latitude__lte=latitude + Decimal("0.01"),
        longitude__gte=longitude - box,
        longitude__lte=longitude + box,
    ).only("pk", "path", "depth", "kind", "latitude", "longitude", "name", "code")
    best: tuple[float, int, Node] | None = None
    for node in candidates:
        assert node.latitude is not None and node.longitude is not None
        metres = _metres(float(latitude), float(longitude), float(node.latitude), float(node.longitude))
        rank = (metres, -node.depth, node)
        if metres <= NEAREST_MAX_METRES and (best is None or rank[:2] < best[:2]):
            best = rank
    return best[2] if best else None


def node_for_address_string(text: str) -> Node | None:
    """The one address node the words name, or None when they name none or several.

    The text is split on spaces and commas; a candidate is a compound, building, entrance or
    household whose name (or code) is one of the words, and it must have every other word
    among its ancestors' names ("春都华府 1号楼 101" names one household even when many
    buildings are called 1号楼). The most specific candidate wins if it is alone.
    """
    words = [word for word in _ADDRESS_SEPARATORS.split(text.strip()) if word]
    if not words:
        return None
    whole = list(Node.objects.filter(kind__in=ADDRESS_ID_KINDS, name=text.strip())[:2])
    if len(whole) == 1:
        return whole[0]
    candidates = list(Node.objects.filter(kind__in=ADDRESS_ID_KINDS, name__in=words)[:500])
    candidates += list(Node.objects.filter(kind__in=ADDRESS_ID_KINDS, code__in=words)[:10])
    if not candidates:
        return None
    paths = {path for node in candidates for path in node.ancestor_paths}
    names = dict(Node.objects.filter(path__in=paths).values_list("path", "name"))
    fitting = [
        node
        for node in candidates
        if set(words) <= {names.get(path, "") for path in node.ancestor_paths} | {node.code}
    ]
    if not fitting:
        return None
    deepest = max(node.depth for node in fitting)
    found = {node.pk: node for node in fitting if node.depth == deepest}
    return next(iter(found.values())) if len(found) == 1 else None
