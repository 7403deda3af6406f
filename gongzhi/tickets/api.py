"""/api/v1/tickets: list, read, enter and handle tickets; categories; possible duplicates.

Every read goes through the caller's scope (a ticket outside it answers 404), every write through
the services, which check the level that owns the ticket. Errors are `{code, message}`:
an illegal transition or a concurrent change answers 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema, Status
from pydantic import Field

from gongzhi.accounts.permissions import Perm
from gongzhi.core import clock
from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import SCOPED_ERRORS, ErrorOut, PageParams, paginate
from gongzhi.core.errors import ValidationFailed
from gongzhi.territory.selectors import node_get
from gongzhi.tickets.models import (
    Category,
    Channel,
    EventAction,
    QuestionType,
    Ticket,
    TicketEvent,
    TicketKind,
)
from gongzhi.tickets.selectors import (
    TicketFilters,
    category_list,
    ticket_actions_for,
    ticket_get,
    ticket_list,
)
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.similar import similar_open_tickets
from gongzhi.tickets.suggest import suggest_categories
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, AWAITING_RESPONSE, Level, TicketState

router = Router(tags=["tickets"])

# Ids beyond a 64-bit integer cannot exist; refusing them keeps them away from the database.
MAX_ID = 2**63 - 1
# Text without NUL characters (PostgreSQL refuses them in text columns and parameters).
NO_NUL = r"^[^\x00]*$"
# A ticket number in a path: 2026112000000042.
Number = Annotated[str, Path(max_length=20, pattern=r"^[0-9A-Za-z-]+$", description="The ticket number.")]
# 400: a body that is not JSON at all (ninja answers it before the operation runs).
WRITE_ERRORS: dict[int | str, Any] = {
    400: ErrorOut,
    403: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    **SCOPED_ERRORS,
}
READ_ERRORS: dict[int | str, Any] = {422: ErrorOut, **SCOPED_ERRORS}

ActionName = Literal["accept", "start", "resolve", "reject", "reopen", "merge", "comment"]
# The channels staff name when they enter a ticket; web and doorplate are the residents' own.
StaffChannel = Literal["doorstep", "hall", "phone", "api"]


# --- Shapes ---------------------------------------------------------------------------------------


class TicketListParams(PageParams):
    state: TicketState | Literal["open"] | None = Field(None, description="A state, or `open`.")
    node: int | None = Field(None, ge=1, le=MAX_ID, description="Only tickets addressed under this node.")
    category: str = Field("", max_length=50, pattern=NO_NUL, description="A category code.")
    kind: TicketKind | None = None
    channel: Channel | None = None
    overdue: bool = Field(False, description="Only tickets past their response or resolution deadline.")
    q: str = Field("", max_length=100, pattern=NO_NUL, description="A ticket number or words of it.")


class CategoryRefOut(Schema):
    code: str
    name: str


class TicketOut(Schema):
    number: str
    kind: TicketKind
    category: CategoryRefOut
    description: str
    channel: Channel
    node_id: int
    address: str = Field(description="The name of the node the ticket is addressed to.")
    state: TicketState
    state_label: str
    level: Level
    level_label: str
    owner_node_id: int
    assignee: str | None = Field(description="Who accepted it, by name.")
    submitted_at: dt.datetime
    response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    overdue: bool


class TicketPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[TicketOut]


class EventOut(Schema):
    at: dt.datetime
    action: EventAction
    action_label: str
    actor: str = Field(description="Who acted: a staff member's name, a department, resident or system.")
    from_state: TicketState | None
    to_state: TicketState | None
    from_level: Level | None
    to_level: Level | None
    note: str


class SummonsOut(Schema):
    department_id: int
    department: str
    due_at: dt.datetime
    reported_at: dt.datetime | None
    acted_at: dt.datetime | None
    action_note: str
    reminders: int = Field(
        description="Reminders (催办) sent to the department while it had not reported in."
    )


class WhistleOut(Schema):
    id: int
    level: Level
    node_id: int
    note: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    summonses: list[SummonsOut]


class TicketDetailOut(TicketOut):
    answers: dict[str, Any]
    grid_id: int
    reporter_name: str = Field(description="Empty when the reporter asked to stay anonymous.")
    reporter_phone: str = Field(description="Masked, e.g. 138****1234.")
    is_anonymous: bool
    rating_due_at: dt.datetime | None
    responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reminders: int
    merged_into: str | None = Field(description="The number of the ticket this one was merged into.")
    rating: str
    rating_comment: str
    resolution_note: str
    public_outcome: str = Field(description="What the community's public board says was done.")
    rejection_reason: str
    version: int
    actions: list[str] = Field(description="The state-machine actions the caller may take now.")
    events: list[EventOut] = Field(description="The public timeline, oldest first.")
    whistles: list[WhistleOut]


class TicketIn(Schema):
    """A ticket taken by staff on the doorstep, in the hall, by phone, or sent by a program."""

    channel: StaffChannel
    node_id: int = Field(
        ge=1, le=MAX_ID, description="The address: a grid, compound, building, entrance or home."
    )
    category: str = Field(min_length=1, max_length=50, pattern=NO_NUL, description="A category code.")
    description: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    kind: TicketKind | None = None
    answers: dict[str, Any] = Field(default_factory=dict, description="Answers keyed by question code.")
    reporter_name: str = Field("", max_length=50, pattern=NO_NUL)
    reporter_phone: str = Field("", max_length=20, pattern=NO_NUL)
    is_anonymous: bool = False
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6)
    submit_key: str = Field(
        "",
        max_length=40,
        pattern=r"^[A-Za-z0-9_.:-]*$",
        description="Idempotency: a retry with the same key returns the first ticket. "
        "The `Idempotency-Key` header does the same.",
    )


class ActionIn(Schema):
    note: str = Field(
        "",
        max_length=2000,
        pattern=NO_NUL,
        description="What was done (resolve), the reason (reject, reopen), or the comment.",
    )
    into: str = Field("", max_length=20, pattern=NO_NUL, description="merge: the surviving ticket's number.")
    public_outcome: str = Field(
        "",
        max_length=200,
        pattern=NO_NUL,
        description="resolve: what the community's public board may say was done (optional; refused "
        "with 422 when it holds a name, phone, ID or door number).",
    )
    is_public: bool = Field(False, description="comment: shown to the resident too.")


class WhistleIn(Schema):
    department_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=20)
    note: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)


class ChoiceOut(Schema):
    key: str
    name: str


class QuestionOut(Schema):
    code: str
    prompt: str
    description: str
    datatype: QuestionType
    required: bool
    choices: list[ChoiceOut]
    order: int


class CategoryOut(Schema):
    code: str
    name: str
    description: str
    group: str
    kind: TicketKind
    default_level: Level
    response_minutes: int
    resolution_minutes: int
    report_in_minutes: int = Field(description="Minutes a summoned department has to report in (报到).")
    counting: str
    is_urgent: bool
    questions: list[QuestionOut]


class SuggestParams(Schema):
    text: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    kind: TicketKind | None = None


class SimilarParams(Schema):
    text: str = Field("", max_length=2000, pattern=NO_NUL, description="The description being written.")
    node: int | None = Field(None, ge=1, le=MAX_ID, description="Its address.")
    category: str = Field("", max_length=50, pattern=NO_NUL, description="Its category code.")
    ticket: str = Field(
        "", max_length=20, pattern=NO_NUL, description="Or: a ticket number, for its own duplicates."
    )
    limit: int = Field(5, ge=1, le=20)


class SimilarOut(Schema):
    ticket: TicketOut
    score: float = Field(description="0 to 1: text similarity weighed with place and time.")
    reasons: list[str]


# --- Conversions ----------------------------------------------------------------------------------


def _overdue(ticket: Ticket, now: dt.datetime) -> bool:
    if ticket.state in AWAITING_RESPONSE:
        return ticket.response_due_at is not None and ticket.response_due_at < now
    if ticket.state in AWAITING_RESOLUTION:
        return ticket.resolution_due_at is not None and ticket.resolution_due_at < now
    return False


def ticket_out(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "category": {"code": ticket.category.code, "name": ticket.category.name},
        "description": ticket.description,
        "channel": ticket.channel,
        "node_id": ticket.node_id,
        "address": ticket.node.name,
        "state": ticket.state,
        "state_label": str(TicketState(ticket.state).label),
        "level": ticket.level,
        "level_label": str(Level(ticket.level).label),
        "owner_node_id": ticket.owner_node_id,
        "assignee": str(ticket.assignee) if ticket.assignee_id else None,
        "submitted_at": ticket.submitted_at,
        "response_due_at": ticket.response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "overdue": _overdue(ticket, now),
    }


def _event_out(event: TicketEvent) -> dict[str, Any]:
    return {
        "at": event.at,
        "action": event.action,
        "action_label": str(EventAction(event.action).label),
        "actor": event.actor_label or (str(event.actor) if event.actor is not None else ""),
        "from_state": event.from_state or None,
        "to_state": event.to_state or None,
        "from_level": event.from_level,
        "to_level": event.to_level,
        "note": event.note,
    }


def ticket_detail_out(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        **ticket_out(ticket, clock.now()),
        "answers": ticket.answers,
        "grid_id": ticket.grid_id,
        "reporter_name": "" if ticket.is_anonymous else ticket.reporter_name,
        "reporter_phone": ticket.masked_phone,
        "is_anonymous": ticket.is_anonymous,
        "rating_due_at": ticket.rating_due_at,
        "responded_at": ticket.responded_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "reminders": ticket.reminders,
        "merged_into": ticket.merged_into.number if ticket.merged_into is not None else None,
        "rating": ticket.rating,
        "rating_comment": ticket.rating_comment,
        "resolution_note": ticket.resolution_note,
        "public_outcome": ticket.public_outcome,
        "rejection_reason": ticket.rejection_reason,
        "version": ticket.version,
        "actions": [str(action) for action in ticket_actions_for(actor=actor, ticket=ticket)],
        "events": [_event_out(event) for event in ticket.events.all() if event.is_public],
        "whistles": [
            {
                "id": whistle.pk,
                "level": whistle.level,
                "node_id": whistle.node_id,
                "note": whistle.note,
                "created_at": whistle.created_at,
                "confirmed_at": whistle.confirmed_at,
                "summonses": [
                    {
                        "department_id": summons.department_id,
                        "department": summons.department.name,
                        "due_at": summons.due_at,
                        "reported_at": summons.reported_at,
                        "acted_at": summons.acted_at,
                        "action_note": summons.action_note,
                        "reminders": summons.reminders,
                    }
                    for summons in whistle.summonses.all()
                ],
            }
            for whistle in ticket.whistles.all()
        ],
    }


def category_out(category: Category) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "group": category.group,
        "kind": category.kind,
        "default_level": category.default_level,
        "response_minutes": category.response_minutes,
        "resolution_minutes": category.resolution_minutes,
        "report_in_minutes": category.report_in_period(),
        "counting": category.counting,
        "is_urgent": category.is_urgent,
        "questions": [
            {
                "code": question.code,
                "prompt": question.prompt,
                "description": question.description,
                "datatype": question.datatype,
                "required": question.required,
                "choices": [
                    {"key": str(choice.get("key", "")), "name": str(choice.get("name", ""))}
                    for choice in question.choices
                    if isinstance(choice, dict)
                ],
                "order": question.order,
            }
            for question in category.questions.all()
        ],
    }


def _reloaded(request: HttpRequest, number: str) -> dict[str, Any]:
    return ticket_detail_out(request, ticket_get(actor=actor_of(request), number=number))


# --- Operations -----------------------------------------------------------------------------------
# The fixed paths come before /tickets/{number}, which would otherwise take them.


@router.get("/tickets/categories", response={200: list[CategoryOut], **SCOPED_ERRORS}, summary="Categories")
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The active categories with their deadlines and extra questions (Open311 attributes)."""
    return [category_out(category) for category in category_list()]


@router.get(
    "/tickets/categories/suggest",
    response={200: list[CategoryOut], **READ_ERRORS},
    summary="Suggest categories for a description",
)
def categories_suggest(request: HttpRequest, params: Query[SuggestParams]) -> list[dict[str, Any]]:
    """Up to three categories that fit the words of `text`, best first."""
    found = suggest_categories(params.text, kind=params.kind or "")
    by_pk = {category.pk: category for category in category_list().filter(pk__in=[c.pk for c in found])}
    return [category_out(by_pk[category.pk]) for category in found if category.pk in by_pk]


@router.get(
    "/tickets/similar",
    response={200: list[SimilarOut], **READ_ERRORS},
    summary="Possible duplicates",
)
def similar(request: HttpRequest, params: Query[SimilarParams]) -> list[dict[str, Any]]:
    """Open tickets of the last 30 days near the address whose text is alike, best first:
    while a ticket is written (`text`, `node`, `category`) or for a ticket (`ticket`)."""
    actor = actor_of(request)
    ticket = ticket_get(actor=actor, number=params.ticket) if params.ticket else None
    node = node_get(actor=actor, node_id=params.node) if params.node is not None else None
    category = Category.objects.filter(code=params.category).first() if params.category else None
    found = similar_open_tickets(
        actor=actor,
        ticket=ticket,
        text=params.text,
        node=node,
        category_id=category.pk if category is not None else None,
        limit=params.limit,
    )
    now = clock.now()
    return [
        {"ticket": ticket_out(item.ticket, now), "score": item.score, "reasons": item.reasons}
        for item in found
    ]


@router.get("/tickets", response={200: TicketPageOut, **READ_ERRORS}, summary="Tickets in scope")
def tickets_list(request: HttpRequest, params: Query[TicketListParams]) -> dict[str, Any]:
    """The tickets whose address is in the caller's scope (and those summoning their department),
    newest first."""
    filters = TicketFilters(
        state=str(params.state or ""),
        node_id=params.node,
        category=params.category,
        kind=str(params.kind or ""),
        channel=str(params.channel or ""),
        overdue=params.overdue,
        query=params.q,
    )
    page = paginate(ticket_list(actor=actor_of(request), filters=filters), params)
    now = clock.now()
    return {
        "count": page.count,
        "limit": page.limit,
        "offset": page.offset,
        "items": [ticket_out(ticket, now) for ticket in page.items],
    }


@router.post(
    "/tickets",
    response={200: TicketDetailOut, 201: TicketDetailOut, **WRITE_ERRORS},
    summary="Enter a ticket",
)
def tickets_create(
    request: HttpRequest,
    payload: TicketIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=40, pattern=r"^[A-Za-z0-9_.:-]*$"),
) -> Status[dict[str, Any]]:
    """Staff enter a ticket taken on the doorstep, in the hall or by phone (or a program sends one:
    `api`). The caller must handle tickets at the address. A retry with the same submit key
    (field or `Idempotency-Key` header) answers 200 with the ticket the first call made (201)."""
    actor = actor_of(request)
    node = node_get(actor=actor, node_id=payload.node_id)
    actor.ensure_can(Perm.HANDLE_TICKETS, node.path)
    key = payload.submit_key or idempotency_key
    # Keys are the caller's own: another user's key never returns their ticket.
    submit_key = f"api:{actor.user.pk if actor.user else 0}:{key}" if key else ""
    if submit_key and (existing := Ticket.objects.filter(submit_key=submit_key).first()) is not None:
        return Status(200, _reloaded(request, existing.number))
    ticket = ticket_submit(
        actor=actor,
        data=TicketInput(
            node_id=node.pk,
            category_code=payload.category,
            description=payload.description,
            channel=payload.channel,
            kind=payload.kind or "",
            answers=payload.answers,
            reporter_name=payload.reporter_name,
            reporter_phone=payload.reporter_phone,
            is_anonymous=payload.is_anonymous,
            latitude=payload.latitude,
            longitude=payload.longitude,
            submit_key=submit_key,
        ),
    )
    return Status(201, _reloaded(request, ticket.number))


@router.get("/tickets/{number}", response={200: TicketDetailOut, **READ_ERRORS}, summary="A ticket")
def tickets_detail(request: HttpRequest, number: Number) -> dict[str, Any]:
    """A ticket with its public timeline and whistles; the reporter's phone masked.
    Outside the caller's scope it does not exist (404)."""
    return ticket_detail_out(request, ticket_get(actor=actor_of(request), number=number))


@router.post(
    "/tickets/{number}/actions/{action}",
    response={200: TicketDetailOut, **WRITE_ERRORS},
    summary="Act on a ticket",
)
def tickets_act(
    request: HttpRequest, number: Number, action: ActionName, payload: ActionIn
) -> dict[str, Any]:
    """accept, start, resolve (note: what was done), reject and reopen (note: the reason),
    merge (into: the surviving number) or comment (note). An action the ticket's state does
    not allow answers 409 `illegal_transition`; a concurrent change 409 `conflict`."""
    actor = actor_of(request)
    ticket = ticket_get(actor=actor, number=number)
    note = payload.note
    if action == "accept":
        handling.ticket_accept(actor=actor, ticket_id=ticket.pk, note=note)
    elif action == "start":
        handling.ticket_start(actor=actor, ticket_id=ticket.pk, note=note)
    elif action == "resolve":
        handling.ticket_resolve(
            actor=actor, ticket_id=ticket.pk, note=note, public_outcome=payload.public_outcome
        )
    elif action == "reject":
        handling.ticket_reject(actor=actor, ticket_id=ticket.pk, reason=note)
    elif action == "reopen":
        handling.ticket_reopen(actor=actor, ticket_id=ticket.pk, reason=note)
    elif action == "merge":
        if not payload.into:
            message = _("Give the number of the ticket to merge into.")
            raise ValidationFailed(message, extra={"fields": {"into": message}})
        survivor = ticket_get(actor=actor, number=payload.into)
        handling.ticket_merge(actor=actor, ticket_id=ticket.pk, into_id=survivor.pk, note=note)
    else:
        handling.ticket_comment(actor=actor, ticket_id=ticket.pk, note=note, is_public=payload.is_public)
    return _reloaded(request, number)


@router.post(
    "/tickets/{number}/whistle",
    response={200: TicketDetailOut, **WRITE_ERRORS},
    summary="Summon departments (吹哨)",
)
def tickets_whistle(request: HttpRequest, number: Number, payload: WhistleIn) -> dict[str, Any]:
    """The owning grid or community summons departments; each must report in (报到) in time."""
    actor = actor_of(request)
    ticket = ticket_get(actor=actor, number=number)
    handling.ticket_whistle(
        actor=actor,
        ticket_id=ticket.pk,
        department_ids=payload.department_ids,
        note=payload.note,
    )
    return _reloaded(request, number)
