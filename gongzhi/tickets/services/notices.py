"""What a ticket event tells whom: staff inboxes, the resident's SMS, departments' webhooks.

Called inside the transaction of the event; the outbox keys every message by the event's id, so a
retried write or a second sweep never sends twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from gongzhi.accounts.models import User
from gongzhi.core import personal
from gongzhi.notifications.services import notify
from gongzhi.tickets.models import Ticket, TicketEvent


def _payload(ticket: Ticket, event: TicketEvent) -> dict[str, object]:
    """What a webhook's receiver (a department's system, outside the platform) learns of an event.

    No personal data leaves: the ticket's number, place, category and state, and its description
    masked as the public Open311 calls show it (mobiles, e-mail addresses, ID numbers and the
    reporter's name); never the reporter's name or phone themselves.
    """
    return {
        "event": event.action,
        "event_id": event.pk,
        "at": event.at.isoformat(),
        "ticket": {
            "number": ticket.number,
            "category": ticket.category.code,
            "state": ticket.state,
            "level": ticket.level,
            "node": ticket.node.code,
            "description": public_text(ticket, ticket.description),
        },
    }


def public_text(ticket: Ticket, text: str) -> str:
    """`text` (the ticket's description, a resident's comment) with the personal data in it masked."""
    return personal.mask_personal_text(text, names=(ticket.reporter_name,))


def notify_staff(
    ticket: Ticket,
    event: TicketEvent,
    *,
    users: Iterable[User],
    subject: str,
    organization_ids: Iterable[int] | None = None,
    new_event: bool = False,
) -> None:
    """`new_event=True`: `event` was written in this transaction, so nothing is queued under its key."""
    notify(
        key=f"ticket-event:{event.pk}:staff",
        event_type=f"ticket.{event.action}",
        subject=subject,
        body=ticket.description[:200],
        url=reverse("tickets:detail", args=[ticket.number]),
        users=users,
        payload=_payload(ticket, event),
        organization_ids=organization_ids,
        fresh=new_event,
    )


def resident_phones(ticket: Ticket) -> list[str]:
    """The reporter's phone and those of every duplicate merged into the ticket."""
    phones = [ticket.reporter_phone] if ticket.reporter_phone else []
    phones += [phone for phone in ticket.merged_tickets.values_list("reporter_phone", flat=True) if phone]
    return phones


def notify_resident(
    ticket: Ticket, event: TicketEvent, *, text: str, phones: list[str] | None = None
) -> None:
    """An SMS to the ticket's reporters (`resident_phones`, unless `phones` names them) with a link to follow it."""
    phones = resident_phones(ticket) if phones is None else phones
    if not phones:
        return
    notify(
        key=f"ticket-event:{event.pk}:resident",
        event_type=f"ticket.{event.action}.resident",
        subject=text,
        url=reverse("tickets:follow", args=[ticket.follow_token]),
        phones=phones,
        organization_ids=[],
    )
