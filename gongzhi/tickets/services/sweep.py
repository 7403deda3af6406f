"""The periodic sweep: escalate overdue tickets, remind late departments, close unrated tickets.

Idempotent by construction: each overdue ticket is changed with compare-and-set on its version
and its deadline moves forward in the same write, so two sweeps at once, or one after the worker
was down for a day, escalate a ticket once, not once per missed period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.core import clock
from gongzhi.tickets.deadlines import add_duration
from gongzhi.tickets.models import EventAction, Summons, Ticket, TicketEvent
from gongzhi.tickets.routing import (
    LEVEL_HANDLERS,
    LEVEL_SUPERVISORS,
    department_handlers,
    handlers_of,
    owner_for_level,
)
from gongzhi.tickets.services.notices import notify_staff
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE, Level, TicketState


@dataclass
class SweepResult:
    escalated: int = 0
    reminded: int = 0
    closed: int = 0
    departments_reminded: int = 0


def _escalate(ticket_id: int, version: int, *, overdue: str, now: dt.datetime) -> str:
    """Escalate one overdue ticket; returns "escalated", "reminded" (already at the top) or "" (lost a race)."""
    ticket = Ticket.objects.select_related("category", "grid", "owner_node", "node").get(pk=ticket_id)
    if ticket.version != version:
        return ""
    category = ticket.category
    old_level = ticket.level
    level, owner = owner_for_level(ticket.grid, min(old_level + 1, Level.SUBDISTRICT))
    due_field = "response_due_at" if overdue == "response" else "resolution_due_at"
    minutes = category.response_minutes if overdue == "response" else category.resolution_minutes
    changes = {
        due_field: add_duration(now, minutes, category.counting),
        "reminders": ticket.reminders + 1,
        "version": version + 1,
        "updated_at": now,
    }
    moved = level != old_level
    if moved:
        changes.update(level=level, owner_node=owner, assignee=None)
    states = AWAITING_RESPONSE if overdue == "response" else AWAITING_RESOLUTION
    rows = Ticket.objects.filter(
        pk=ticket_id, version=version, state__in=states, **{f"{due_field}__lte": now}
    ).update(**changes)
    if rows != 1:
        return ""
    for name, value in changes.items():
        setattr(ticket, name, value)
    event = TicketEvent.objects.create(
        ticket=ticket,
        at=now,
        actor_label="system",
        action=EventAction.ESCALATED if moved else EventAction.REMINDED,
        from_level=old_level,
        to_level=ticket.level,
        is_public=moved,
        data={"overdue": overdue, "reminders": ticket.reminders},
    )
    if overdue == "response":
        subject = _("Overdue response on ticket %(number)s: now with the %(level)s")
    else:
        subject = _("Overdue resolution on ticket %(number)s: now with the %(level)s")
    users = handlers_of(ticket.owner_node, LEVEL_HANDLERS[ticket.level]) + handlers_of(
        ticket.owner_node, LEVEL_SUPERVISORS[ticket.level]
    )
    if moved:
        old_owner = owner_for_level(ticket.grid, old_level)[1]
        users += handlers_of(old_owner, LEVEL_SUPERVISORS[old_level])
    notify_staff(
        ticket,
        event,
        users=users,
        subject=subject % {"number": ticket.number, "level": ticket.get_level_display()},
    )
    return "escalated" if moved else "reminded"


def _close_unrated(ticket_id: int, version: int, now: dt.datetime) -> bool:
    rows = Ticket.objects.filter(
        pk=ticket_id, version=version, state=TicketState.RESOLVED, rating_due_at__lte=now
    ).update(state=TicketState.CLOSED, closed_at=now, rating_due_at=None, version=version + 1, updated_at=now)
    if rows == 1:
        TicketEvent.objects.create(
            ticket_id=ticket_id,
            at=now,
            actor_label="system",
            action=EventAction.CLOSED,
            from_state=TicketState.RESOLVED,
            to_state=TicketState.CLOSED,
            data={"unrated": True},
        )
    return rows == 1


def _remind_department(summons_id: int, now: dt.datetime) -> bool:
    rows = Summons.objects.filter(pk=summons_id, reported_at__isnull=True, reminded_at__isnull=True).update(
        reminded_at=now
    )
    if rows != 1:
        return False
    summons = Summons.objects.select_related(
        "whistle__ticket__category", "whistle__ticket__node", "department"
    ).get(pk=summons_id)
    ticket = summons.whistle.ticket
    Ticket.objects.filter(pk=ticket.pk).update(reminders=ticket.reminders + 1)
    event = TicketEvent.objects.create(
        ticket=ticket,
        at=now,
        actor_label="system",
        action=EventAction.REMINDED,
        is_public=False,
        data={"summons": summons.pk, "department": summons.department_id},
    )
    notify_staff(
        ticket,
        event,
        users=department_handlers([summons.department_id])
        + handlers_of(summons.whistle.node, LEVEL_HANDLERS[summons.whistle.level]),
        subject=_("%(department)s has not reported in on ticket %(number)s")
        % {"department": summons.department.name, "number": ticket.number},
        organization_ids=[summons.department_id],
    )
    return True


def tickets_sweep(*, now: dt.datetime | None = None, batch: int = 1000) -> SweepResult:
    """One pass over everything due at `now`; each change is its own short transaction."""
    now = now or clock.now()
    result = SweepResult()
    for overdue, states, field in (
        ("response", AWAITING_RESPONSE, "response_due_at"),
        ("resolution", AWAITING_RESOLUTION, "resolution_due_at"),
    ):
        due = (
            Ticket.objects.filter(state__in=states, **{f"{field}__lte": now})
            .order_by(field)
            .values_list("pk", "version")[:batch]
        )
        for pk, version in list(due):
            with transaction.atomic():
                outcome = _escalate(pk, version, overdue=overdue, now=now)
            result.escalated += outcome == "escalated"
            result.reminded += outcome == "reminded"
    unrated = Ticket.objects.filter(state=TicketState.RESOLVED, rating_due_at__lte=now).values_list(
        "pk", "version"
    )[:batch]
    for pk, version in list(unrated):
        with transaction.atomic():
            result.closed += _close_unrated(pk, version, now)
    late = Summons.objects.filter(
        reported_at__isnull=True, reminded_at__isnull=True, due_at__lte=now
    ).values_list("pk", flat=True)[:batch]
    for pk in list(late):
        with transaction.atomic():
            result.departments_reminded += _remind_department(pk, now)
    return result
