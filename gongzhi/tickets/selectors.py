"""Reads of the tickets domain, always through the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core.errors import NotFound
from gongzhi.territory.models import Node, subtree_q
from gongzhi.tickets.models import Category, Summons, Ticket, TicketEvent, Whistle
from gongzhi.tickets.workflow import OPEN_STATES, TicketAction, allowed_actions


@dataclass
class TicketFilters:
    state: str = ""  # a state, or "open"
    node_id: int | None = None  # restrict to a subtree
    category: str = ""
    kind: str = ""
    channel: str = ""
    overdue: bool = False
    query: str = ""  # number or words of the description


def ticket_list(*, actor: Actor, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    filters = filters or TicketFilters()
    tickets = Ticket.objects.all()
    if filters.node_id is not None:
        node = Node.objects.filter(pk=filters.node_id).first()
        if node is None:
            raise NotFound()
        tickets = tickets.filter(subtree_q("node__path", node.path))
    tickets = tickets.visible_to(actor)
    if filters.state == "open":
        tickets = tickets.filter(state__in=OPEN_STATES)
    elif filters.state:
        tickets = tickets.filter(state=filters.state)
    if filters.category:
        tickets = tickets.filter(category__code=filters.category)
    if filters.kind:
        tickets = tickets.filter(kind=filters.kind)
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    if filters.query:
        text = filters.query.strip()
        tickets = (
            tickets.filter(number=text) if text.isdigit() else tickets.filter(description__icontains=text)
        )
    if filters.overdue:
        from django.db.models import Q

        from gongzhi.core import clock
        from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE

        now = clock.now()
        tickets = tickets.filter(
            Q(state__in=AWAITING_RESPONSE, response_due_at__lt=now)
            | Q(state__in=AWAITING_RESOLUTION, resolution_due_at__lt=now)
        )
    return tickets.select_related("category", "node", "owner_node", "assignee").order_by(
        "-submitted_at", "-pk"
    )


def ticket_get(*, actor: Actor, number: str) -> Ticket:
    ticket = (
        Ticket.objects.visible_to(actor)
        .select_related("category", "node", "grid", "owner_node", "assignee", "merged_into", "entered_by")
        .prefetch_related(
            Prefetch(
                "events", queryset=TicketEvent.objects.select_related("actor").prefetch_related("photos")
            ),
            Prefetch(
                "whistles",
                queryset=Whistle.objects.select_related("node").prefetch_related(
                    Prefetch(
                        "summonses", queryset=Summons.objects.select_related("department", "reported_by")
                    )
                ),
            ),
            "photos",
        )
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise NotFound()
    return ticket


def ticket_actions_for(*, actor: Actor, ticket: Ticket) -> list[TicketAction]:
    """The state-machine actions this actor may take on this ticket now (pages show only these)."""
    if not actor.can(Perm.HANDLE_TICKETS, ticket.owner_node.path):
        return []
    actions = allowed_actions(ticket.state)
    # Merging needs a target and closing is the resident's (rating) or the sweep's.
    return [a for a in actions if a not in (TicketAction.CLOSE,)]


def category_list() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).prefetch_related("questions").order_by("order", "code")


def summons_for_department(*, actor: Actor) -> QuerySet[Summons]:
    from gongzhi.accounts.models import Role

    return (
        Summons.objects.filter(department_id__in=actor.organization_ids(Role.DEPARTMENT_HANDLER))
        .select_related("whistle__ticket__category", "whistle__ticket__node", "department")
        .order_by("reported_at", "acted_at", "due_at")
    )
