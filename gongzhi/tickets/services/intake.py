"""Taking a resident's demand in: from a doorplate, the web, a staff member or the API."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock, personal
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.territory.models import Node
from gongzhi.tickets.deadlines import LOCAL, add_duration
from gongzhi.tickets.models import (
    Category,
    Channel,
    EventAction,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketPhoto,
)
from gongzhi.tickets.routing import LEVEL_HANDLERS, handlers_of, level_owner, route
from gongzhi.tickets.services.answers import active_category, answers_clean
from gongzhi.tickets.services.notices import notify_staff
from gongzhi.tickets.workflow import Level, TicketState

# Channels only staff may name: a ticket taken on the doorstep, in the hall or on the phone.
STAFF_CHANNELS = frozenset({Channel.DOORSTEP, Channel.HALL, Channel.PHONE})
MAX_PHOTOS = 3
DESCRIPTION_MIN, DESCRIPTION_MAX = 4, 2000


@dataclass
class TicketInput:
    node_id: int
    category_code: str
    description: str
    channel: str
    kind: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    reporter_name: str = ""
    reporter_phone: str = ""
    is_anonymous: bool = False
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    submit_key: str = ""
    photos: Sequence[File] = ()
    # The address row when the caller has just read it (saves reading it again by node_id).
    node: Node | None = None


def _clean(data: TicketInput, actor: Actor | None) -> tuple[Category, str, str, dict[str, Any]]:
    errors: dict[str, str] = {}
    category = active_category(data.category_code)
    if category is None:
        errors["category"] = _("Choose a category from the list.")
    description = (data.description or "").strip()
    if len(description) < DESCRIPTION_MIN:
        errors["description"] = _("Describe the matter in a few words (at least %(n)d characters).") % {
            "n": DESCRIPTION_MIN
        }
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = _("Keep the description under %(n)d characters.") % {"n": DESCRIPTION_MAX}
    phone = ""
    if data.reporter_phone:
        try:
            phone = personal.validate_phone(data.reporter_phone)
        except Exception:
            errors["phone"] = _("Enter a valid mobile phone number, e.g. 13812345678.")
    if data.channel not in Channel.values:
        errors["channel"] = _("Unknown channel.")
    elif data.channel in STAFF_CHANNELS and (
        actor is None or not actor.has_perm_anywhere(Perm.HANDLE_TICKETS)
    ):
        errors["channel"] = _("Only staff may enter tickets taken on the doorstep, in the hall or by phone.")
    if data.kind and data.kind not in TicketKind.values:
        errors["kind"] = _("Unknown kind.")
    if len(data.photos) > MAX_PHOTOS:
        errors["photos"] = _("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS}
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    assert category is not None
    answers = answers_clean(category, data.answers)
    return category, description, phone, answers


def _number(submitted_at: dt.datetime, pk: int) -> str:
    return f"{submitted_at.astimezone(LOCAL):%Y%m%d}{pk:07d}"


def _reserve_pk() -> int | None:
    """PostgreSQL: the new ticket's id, drawn from the table's sequence before the INSERT, so the
    number (which contains the id) is written with the row; a second UPDATE would rewrite the row
    and every one of its many index entries. Elsewhere None: the number is set after the INSERT."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s))",
            [Ticket._meta.db_table, Ticket._meta.pk.column],  # type: ignore[union-attr]
        )
        return int(cursor.fetchone()[0])


@dataclass
class _Prepared:
    """What a submission reads before it writes: the checked input, the address and its routing."""

    category: Category
    description: str
    phone: str
    answers: dict[str, Any]
    node: Node
    grid: Node
    level: Level
    owner: Node
    handlers: list[User]


def ticket_submit(
    *, actor: Actor | None, data: TicketInput, on_created: Callable[[Ticket], None] | None = None
) -> Ticket:
    """File a new ticket at its grid with its deadlines; a repeated `submit_key` returns the first one.

    `on_created(ticket)` runs inside the transaction that writes a new ticket (not for a repeat):
    a caller's own row beside the ticket commits with it.
    """
    try:
        return _submit(
            actor=actor, data=data, prepared=_prepare(actor=actor, data=data), on_created=on_created
        )
    except Exception:
        # A repeated submit key: the first ticket stands, whatever this attempt ran into (the
        # unique key refusing the row, or a check the first one passed). Also settles two
        # requests with one key racing: the other one won.
        if data.submit_key:
            existing = Ticket.objects.filter(submit_key=data.submit_key).first()
            if existing is not None:
                return existing
        raise


def _prepare(*, actor: Actor | None, data: TicketInput) -> _Prepared:
    """The reads, outside the write transaction; category, routing and handlers are memoized."""
    category, description, phone, answers = _clean(data, actor)
    node = data.node if data.node is not None and data.node.pk == data.node_id else None
    if node is None:
        node = Node.objects.filter(pk=data.node_id).first()
    if node is None:
        raise NotFound()
    if data.channel in STAFF_CHANNELS and actor is not None:
        actor.ensure_can(Perm.HANDLE_TICKETS, node.path)
    grid, levels = route(node)
    level, owner = level_owner(levels, category.default_level)
    return _Prepared(
        category=category,
        description=description,
        phone=phone,
        answers=answers,
        node=node,
        grid=grid,
        level=level,
        owner=owner,
        handlers=handlers_of(owner, LEVEL_HANDLERS[level]),
    )


@transaction.atomic
def _submit(
    *,
    actor: Actor | None,
    data: TicketInput,
    prepared: _Prepared,
    on_created: Callable[[Ticket], None] | None,
) -> Ticket:
    category, node, level = prepared.category, prepared.node, prepared.level
    staff_entry = data.channel in STAFF_CHANNELS
    now = clock.now()
    user = actor.user if actor is not None and actor.is_authenticated else None
    phone = prepared.phone
    pk = _reserve_pk()
    ticket = Ticket.objects.create(
        pk=pk,
        number=_number(now, pk) if pk is not None else f"tmp-{secrets.token_hex(6)}",
        follow_token=secrets.token_urlsafe(18),
        submit_key=data.submit_key or None,
        kind=data.kind or category.kind,
        category=category,
        description=prepared.description,
        answers=prepared.answers,
        channel=data.channel,
        node=node,
        grid=prepared.grid,
        latitude=data.latitude if data.latitude is not None else node.latitude,
        longitude=data.longitude if data.longitude is not None else node.longitude,
        reporter_user=None if staff_entry else user,
        entered_by=user if staff_entry else None,
        reporter_name=(data.reporter_name or "").strip()[:50],
        reporter_phone=phone,
        reporter_phone_hash=personal.lookup_hash(phone) if phone else "",
        is_anonymous=data.is_anonymous,
        state=TicketState.SUBMITTED,
        level=level,
        owner_node=prepared.owner,
        submitted_at=now,
        response_due_at=add_duration(now, category.response_minutes, category.counting),
        resolution_due_at=add_duration(now, category.resolution_minutes, category.counting),
    )
    if pk is None:
        ticket.number = _number(now, ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    event = TicketEvent.objects.create(
        ticket=ticket,
        at=now,
        actor=user,
        actor_label="" if user else "resident",
        action=EventAction.SUBMITTED,
        to_state=TicketState.SUBMITTED,
        to_level=level,
        data={"channel": data.channel, "category": category.code},
    )
    for photo in data.photos:
        TicketPhoto.objects.create(ticket=ticket, event=event, image=photo, uploaded_at=now)
    notify_staff(
        ticket,
        event,
        users=prepared.handlers,
        subject=_("New ticket %(number)s: %(category)s")
        % {"number": ticket.number, "category": category.name},
        new_event=True,
    )
    if on_created is not None:
        on_created(ticket)
    return ticket


def ticket_rating_window() -> dt.timedelta:
    return dt.timedelta(days=settings.TICKET_RATING_WINDOW_DAYS)
