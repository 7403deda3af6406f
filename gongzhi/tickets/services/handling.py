"""Handling a ticket: the state machine's actions, merges, whistles to departments and ratings.

Every action locks the ticket (select_for_update on PostgreSQL), checks the actor may act at the
ticket's current level, then writes with compare-and-set on `version`: when two workers press
"accept" at once, one wins and the other gets a clear error, never a second owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from gongzhi.accounts.models import Role
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock, redact
from gongzhi.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from gongzhi.territory.models import Node, Organization, OrganizationKind
from gongzhi.tickets.deadlines import add_duration
from gongzhi.tickets.models import (
    EventAction,
    Rating,
    Summons,
    Ticket,
    TicketEvent,
    TicketPhoto,
    Whistle,
)
from gongzhi.tickets.routing import (
    LEVEL_HANDLERS,
    LEVEL_SUPERVISORS,
    department_handlers,
    handlers_of,
    owner_for_level,
)
from gongzhi.tickets.services.notices import notify_resident, notify_staff, public_text, resident_phones
from gongzhi.tickets.workflow import AWAITING_RESOLUTION, Level, TicketAction, TicketState, next_state


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


def _lock(actor: Actor, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("category", "owner_node", "node", "grid")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound()
    return ticket


def ensure_can_handle(actor: Actor, ticket: Ticket) -> None:
    """Only the level that owns a ticket (or one above it) acts on it."""
    if not actor.can(Perm.HANDLE_TICKETS, ticket.owner_node.path):
        raise PermissionDenied(
            _("This ticket is handled at the %(level)s level.") % {"level": ticket.get_level_display()}
        )


def _save(ticket: Ticket, **changes: Any) -> None:
    """Compare-and-set: apply `changes` only if nobody changed the ticket since we read it."""
    rows = Ticket.objects.filter(pk=ticket.pk, version=ticket.version).update(
        version=F("version") + 1, updated_at=clock.now(), **changes
    )
    if rows != 1:
        raise Conflict(_("Someone else changed this ticket just now. Reload it and try again."))
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.version += 1


def _event(
    ticket: Ticket,
    actor: Actor | None,
    action: str,
    *,
    at: dt.datetime,
    from_state: str = "",
    note: str = "",
    is_public: bool = True,
    from_level: int | None = None,
    label: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    user = actor.user if actor is not None and actor.is_authenticated else None
    return TicketEvent.objects.create(
        ticket=ticket,
        at=at,
        actor=user,
        actor_label=label,
        action=action,
        from_state=from_state,
        to_state=ticket.state if from_state else "",
        from_level=from_level,
        to_level=ticket.level if from_level is not None else None,
        note=note,
        is_public=is_public,
        data=data or {},
    )


def _deadline_data(ticket: Ticket, overdue: str, due: dt.datetime | None, now: dt.datetime) -> dict[str, Any]:
    """The deadline in force and whether this round's deadline was met, recorded on the event: the
    three rates are computed from events. An escalation moves the ticket's deadline forward, so "met"
    also needs no escalation or reminder for this deadline since the round began (submission or reopening)."""
    rounds = ticket.events.filter(action__in=[EventAction.SUBMITTED, EventAction.REOPENED])
    began = rounds.order_by("-at", "-pk").values_list("at", flat=True).first()
    missed = ticket.events.filter(
        action__in=[EventAction.ESCALATED, EventAction.REMINDED], at__gte=began, data__overdue=overdue
    ).exists()
    return {"due": due.isoformat() if due else None, "on_time": not missed and (due is None or now <= due)}


def _attach(ticket: Ticket, event: TicketEvent, photos: Sequence[File], at: dt.datetime) -> None:
    if len(photos) > 3:
        raise ValidationFailed(_("Attach at most %(n)d photos.") % {"n": 3})
    for photo in photos:
        TicketPhoto.objects.create(ticket=ticket, event=event, image=photo, uploaded_at=at)


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(message, extra={"fields": {"note": message}})
    if len(text) > 2000:
        raise ValidationFailed(_("Keep the note under 2000 characters."))
    return text


PUBLIC_OUTCOME_MAX = 200
_FOUND_WORDS = {
    redact.Found.PHONE: gettext_lazy("a phone number"),
    redact.Found.ID_NUMBER: gettext_lazy("an ID number"),
    redact.Found.EMAIL: gettext_lazy("an e-mail address"),
    redact.Found.DOOR: gettext_lazy("a door number"),
    redact.Found.NAME: gettext_lazy("a person's name"),
}


def ticket_known_names(ticket: Ticket) -> set[str]:
    """The names of the people this ticket knows: its reporter and the staff who handled it."""
    names = {ticket.reporter_name}
    user_ids = {ticket.assignee_id, ticket.entered_by_id, ticket.reporter_user_id}
    user_ids |= set(ticket.events.exclude(actor=None).values_list("actor_id", flat=True))
    from gongzhi.accounts.models import User

    for user in User.objects.filter(pk__in={pk for pk in user_ids if pk is not None}):
        names |= {user.display_name, user.first_name, user.last_name, user.get_full_name()}
    return {name for name in names if name}


def clean_public_outcome(ticket: Ticket, actor: Actor, text: str) -> str:
    """The outcome for the public board, refused (with what was found) when it holds personal data."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if len(text) > PUBLIC_OUTCOME_MAX:
        message = _("Keep the text for the public board under %(n)d characters.") % {"n": PUBLIC_OUTCOME_MAX}
        raise ValidationFailed(message, extra={"fields": {"public_outcome": message}})
    names = ticket_known_names(ticket)
    if actor.user is not None:
        names |= {actor.user.display_name, actor.user.first_name, actor.user.last_name}
    found = redact.personal_data_in(text, names=names)
    if found:
        message = _(
            "The text for the public board contains %(found)s. Everyone can read it: describe what "
            "was done without names, phone numbers, ID numbers or door numbers."
        ) % {"found": pgettext("list separator", ", ").join(str(_FOUND_WORDS[kind]) for kind in found)}
        raise ValidationFailed(message, code="personal_data", extra={"fields": {"public_outcome": message}})
    return text


@transaction.atomic
def ticket_accept(*, actor: Actor, ticket_id: int, note: str = "") -> Ticket:
    ticket = _lock(actor, ticket_id)
    ensure_can_handle(actor, ticket)
    old = ticket.state
    now = clock.now()
    state = next_state(old, TicketAction.ACCEPT)
    _save(ticket, state=state, assignee=actor.user, responded_at=ticket.responded_at or now)
    event = _event(
        ticket,
        actor,
        EventAction.ACCEPTED,
        at=now,
        from_state=old,
        note=note.strip(),
        data=_deadline_data(ticket, "response", ticket.response_due_at, now),
    )
    notify_resident(ticket, event, text=_("Your ticket %(number)s was accepted.") % {"number": ticket.number})
    return ticket


@transaction.atomic
def ticket_start(*, actor: Actor, ticket_id: int, note: str = "") -> Ticket:
    ticket = _lock(actor, ticket_id)
    ensure_can_handle(actor, ticket)
    old = ticket.state
    _save(ticket, state=next_state(old, TicketAction.START))
    _event(ticket, actor, EventAction.STARTED, at=clock.now(), from_state=old, note=note.strip())
    return ticket


def _resolve(
    ticket: Ticket,
    actor: Actor,
    note: str,
    photos: Sequence[File],
    now: dt.datetime,
    public_outcome: str = "",
) -> TicketEvent:
    old = ticket.state
    state = next_state(old, TicketAction.RESOLVE)
    rating_due = now + dt.timedelta(days=settings.TICKET_RATING_WINDOW_DAYS)
    _save(
        ticket,
        state=state,
        resolved_at=now,
        rating_due_at=rating_due,
        resolution_note=note,
        public_outcome=public_outcome,
    )
    event = _event(
        ticket,
        actor,
        EventAction.RESOLVED,
        at=now,
        from_state=old,
        note=note,
        data=_deadline_data(ticket, "resolution", ticket.resolution_due_at, now),
    )
    _attach(ticket, event, photos, now)
    notify_resident(
        ticket,
        event,
        text=_("Your ticket %(number)s was resolved. Please rate the result.") % {"number": ticket.number},
    )
    return event


@transaction.atomic
def ticket_resolve(
    *, actor: Actor, ticket_id: int, note: str, photos: Sequence[File] = (), public_outcome: str = ""
) -> Ticket:
    """Resolve with the staff's note (for the resident and staff) and, optionally, a text for the
    community's public board (refused when it holds personal data)."""
    ticket = _lock(actor, ticket_id)
    ensure_can_handle(actor, ticket)
    note = _required(note, _("Say what was done."))
    if ticket.whistles.filter(confirmed_at__isnull=True).exists():
        raise ValidationFailed(
            _("Departments were summoned: the summoning level resolves the ticket by confirming their work.")
        )
    public_outcome = clean_public_outcome(ticket, actor, public_outcome)
    _resolve(ticket, actor, note, photos, clock.now(), public_outcome)
    return ticket


@transaction.atomic
def ticket_reject(*, actor: Actor, ticket_id: int, reason: str) -> Ticket:
    ticket = _lock(actor, ticket_id)
    ensure_can_handle(actor, ticket)
    reason = _required(reason, _("Give the reason for rejecting the ticket."))[:500]
    old = ticket.state
    now = clock.now()
    _save(ticket, state=next_state(old, TicketAction.REJECT), rejection_reason=reason, closed_at=now)
    event = _event(ticket, actor, EventAction.REJECTED, at=now, from_state=old, note=reason)
    notify_resident(
        ticket,
        event,
        text=_("Your ticket %(number)s was not accepted: %(reason)s")
        % {"number": ticket.number, "reason": reason},
    )
    return ticket


def _ensure_may_merge_into(survivor: Ticket) -> None:
    """A duplicate joins a ticket still in the loop: open, or resolved and waiting for its rating.

    A closed, rejected or merged ticket is refused with the reason: nothing more will happen on it,
    so the duplicate's reporter would never hear of their matter again.
    """
    number = survivor.number
    if survivor.state == TicketState.MERGED:
        into = survivor.merged_into.number if survivor.merged_into else ""
        message = _("Ticket %(number)s was itself merged into %(into)s: merge into that one.") % {
            "number": number,
            "into": into,
        }
    elif survivor.state == TicketState.CLOSED:
        message = _(
            "Ticket %(number)s is closed: nothing more will happen on it. Handle this ticket on its own."
        ) % {"number": number}
    elif survivor.state == TicketState.REJECTED:
        message = _(
            "Ticket %(number)s was rejected: it will not be handled. Handle this ticket on its own."
        ) % {"number": number}
    else:
        return
    raise ValidationFailed(message, code="not_mergeable", extra={"fields": {"into": message}})


@transaction.atomic
def ticket_merge(*, actor: Actor, ticket_id: int, into_id: int, note: str = "") -> Ticket:
    """Merge a duplicate into a surviving ticket; its reporters then follow the survivor.

    Into an open ticket, they hear its outcome when it comes. Into a ticket already resolved, they
    hear the outcome at once, in the merge's own message. Only the survivor's own reporter rates it:
    one ticket, one rating (the satisfaction rate counts tickets); a merged reporter who is not
    satisfied files a new ticket, which the follow page offers.
    """
    if ticket_id == into_id:
        raise ValidationFailed(_("A ticket cannot be merged into itself."))
    # Lock both in id order so two merges in opposite directions cannot deadlock.
    first, second = sorted([ticket_id, into_id])
    locked = {first: _lock(actor, first), second: _lock(actor, second)}
    ticket, survivor = locked[ticket_id], locked[into_id]
    ensure_can_handle(actor, ticket)
    _ensure_may_merge_into(survivor)
    old = ticket.state
    now = clock.now()
    # The duplicate's reporter and those merged into it before: all follow the survivor now.
    phones = resident_phones(ticket)
    _save(ticket, state=next_state(old, TicketAction.MERGE), merged_into=survivor, closed_at=now)
    event = _event(
        ticket,
        actor,
        EventAction.MERGED,
        at=now,
        from_state=old,
        note=note.strip(),
        data={"into": survivor.number, "into_state": survivor.state},
    )
    Ticket.objects.filter(merged_into=ticket).update(merged_into=survivor)
    _event(survivor, actor, EventAction.COMMENTED, at=now, note=note.strip(), data={"merged": ticket.number})
    if survivor.state == TicketState.RESOLVED:
        text = _(
            "Your ticket %(number)s is the same matter as %(survivor)s, which was already resolved: %(outcome)s"
        ) % {"number": ticket.number, "survivor": survivor.number, "outcome": survivor.resolution_note[:80]}
    else:
        text = _(
            "Your ticket %(number)s is handled together with %(survivor)s; you will hear its outcome."
        ) % {"number": ticket.number, "survivor": survivor.number}
    notify_resident(ticket, event, text=text, phones=phones)
    return survivor


def _level_up(ticket: Ticket, now: dt.datetime) -> dict[str, Any]:
    """Field changes that move a ticket one level up (or keep it at the top) with fresh deadlines."""
    level, owner = owner_for_level(ticket.grid, min(ticket.level + 1, Level.SUBDISTRICT))
    return {"level": level, "owner_node": owner, "assignee": None}


@transaction.atomic
def ticket_reopen(*, actor: Actor | None, ticket_id: int, reason: str, token: str = "") -> Ticket:
    """Staff reopen a resolved ticket; it goes one level up with new deadlines."""
    if actor is None:
        raise PermissionDenied()
    ticket = _lock(actor, ticket_id)
    ensure_can_handle(actor, ticket)
    reason = _required(reason, _("Give the reason for reopening the ticket."))
    _reopen(ticket, actor, reason, clock.now())
    return ticket


def _reopen(
    ticket: Ticket, actor: Actor | None, reason: str, now: dt.datetime, label: str = ""
) -> TicketEvent:
    old, old_level = ticket.state, ticket.level
    changes = _level_up(ticket, now)
    category = ticket.category
    _save(
        ticket,
        state=next_state(old, TicketAction.REOPEN),
        reopen_count=ticket.reopen_count + 1,
        resolved_at=None,
        rating_due_at=None,
        response_due_at=add_duration(now, category.response_minutes, category.counting),
        resolution_due_at=add_duration(now, category.resolution_minutes, category.counting),
        **changes,
    )
    event = _event(
        ticket,
        actor,
        EventAction.REOPENED,
        at=now,
        from_state=old,
        from_level=old_level,
        note=reason,
        label=label,
    )
    notify_staff(
        ticket,
        event,
        users=handlers_of(ticket.owner_node, LEVEL_HANDLERS[ticket.level]),
        # The subject also travels in the webhooks' documents: the resident's words, masked.
        subject=_("Ticket %(number)s reopened: %(reason)s")
        % {"number": ticket.number, "reason": public_text(ticket, reason)[:80]},
    )
    return event


def ticket_for_token(token: str) -> Ticket:
    ticket = (
        Ticket.objects.select_related("category", "node").filter(follow_token=token).first()
        if token
        else None
    )
    if ticket is None:
        raise NotFound()
    return ticket


@transaction.atomic
def ticket_rate(*, token: str, rating: str, comment: str = "") -> Ticket:
    """The resident rates a resolved ticket; 不满意 reopens it one level up."""
    found = ticket_for_token(token)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category", "grid", "node")
        .get(pk=found.pk)
    )
    if rating not in Rating.values:
        raise ValidationFailed(_("Choose one of the three ratings."))
    if ticket.state != TicketState.RESOLVED:
        raise ValidationFailed(_("Only a resolved ticket can be rated."), code="not_rateable")
    comment = (comment or "").strip()[:500]
    now = clock.now()
    _save(ticket, rating=rating, rating_comment=comment)
    _event(ticket, None, EventAction.RATED, at=now, note=comment, label="resident", data={"rating": rating})
    if rating == Rating.UNSATISFIED:
        _reopen(ticket, None, comment or str(Rating.UNSATISFIED.label), now, label="resident")
    else:
        old = ticket.state
        _save(ticket, state=next_state(old, TicketAction.CLOSE), closed_at=now, rating_due_at=None)
        _event(ticket, None, EventAction.CLOSED, at=now, from_state=old, label="resident")
    return ticket


@transaction.atomic
def ticket_comment(*, actor: Actor, ticket_id: int, note: str, is_public: bool = False) -> TicketEvent:
    ticket = _lock(actor, ticket_id)
    note = _required(note, _("Write a note."))
    return _event(ticket, actor, EventAction.COMMENTED, at=clock.now(), note=note, is_public=is_public)


# --- Whistles (吹哨) -----------------------------------------------------------------------------


@transaction.atomic
def ticket_whistle(*, actor: Actor, ticket_id: int, department_ids: Sequence[int], note: str) -> Whistle:
    """The owning grid or community summons departments; each must report in within the deadline."""
    ticket = _lock(actor, ticket_id)
    if not actor.can(Perm.WHISTLE, ticket.owner_node.path):
        ensure_can_handle(actor, ticket)
        raise PermissionDenied()
    note = _required(note, _("Say what the departments are summoned for."))
    if ticket.state not in AWAITING_RESOLUTION:
        raise ValidationFailed(_("Accept the ticket before summoning departments."))
    departments = list(
        Organization.objects.filter(pk__in=set(department_ids), kind=OrganizationKind.DEPARTMENT)
    )
    if not departments or len(departments) != len(set(department_ids)):
        message = _("Choose one or more departments.")
        raise ValidationFailed(message, extra={"fields": {"departments": message}})
    now = clock.now()
    old = ticket.state
    if old == TicketState.ACCEPTED:
        _save(ticket, state=next_state(old, TicketAction.START))
    else:
        _save(ticket)
    whistle = Whistle.objects.create(
        ticket=ticket,
        level=ticket.level,
        node=ticket.owner_node,
        note=note,
        created_by=actor.user,
        created_at=now,
    )
    category = ticket.category
    due = add_duration(now, category.report_in_period(), category.counting)
    Summons.objects.bulk_create(
        [Summons(whistle=whistle, department=d, due_at=due, remind_at=due) for d in departments]
    )
    names = "、".join(d.name for d in departments)
    event = _event(
        ticket,
        actor,
        EventAction.WHISTLED,
        at=now,
        from_state=old if old != ticket.state else "",
        note=note,
        data={"whistle": whistle.pk, "departments": [d.pk for d in departments], "names": names},
    )
    notify_staff(
        ticket,
        event,
        users=department_handlers([d.pk for d in departments]),
        subject=_("Summoned (吹哨) to ticket %(number)s: report in by %(due)s")
        % {"number": ticket.number, "due": clock.localtime(due).strftime("%m-%d %H:%M")},
        organization_ids=[d.pk for d in departments],
    )
    return whistle


def _lock_summons(actor: Actor, summons_id: int) -> Summons:
    summons = (
        Summons.objects.select_for_update(of=("self",))
        .select_related("whistle__ticket", "department")
        .filter(pk=summons_id, department_id__in=actor.organization_ids(Role.DEPARTMENT_HANDLER))
        .first()
    )
    if summons is None:
        raise NotFound()
    return summons


def _report_in_data(summons: Summons, now: dt.datetime) -> dict[str, Any]:
    """The report-in as the roll-ups read it: `late` (the department reported after its deadline;
    the insight issue counts it), by how many minutes (calendar time), and the reminders (催办) it got."""
    late_by = max(0, int((now - summons.due_at).total_seconds() // 60))
    return {
        "summons": summons.pk,
        "whistle": summons.whistle_id,  # the roll-ups time the report-in from the whistle
        "department": summons.department_id,
        "late": now > summons.due_at,
        "late_minutes": late_by,
        "reminders": summons.reminders,
    }


@transaction.atomic
def summons_report_in(*, actor: Actor, summons_id: int, note: str = "") -> Summons:
    """报到: a department handler acknowledges the summons."""
    summons = _lock_summons(actor, summons_id)
    if summons.reported_at is not None:
        raise ValidationFailed(_("Your department has already reported in."))
    now = clock.now()
    summons.reported_at, summons.reported_by, summons.remind_at = now, actor.user, None
    summons.save(update_fields=["reported_at", "reported_by", "remind_at"])
    ticket = summons.whistle.ticket
    event = _event(
        ticket,
        actor,
        EventAction.REPORTED_IN,
        at=now,
        label=summons.department.name,
        note=note.strip(),
        data=_report_in_data(summons, now),
    )
    notify_staff(
        ticket,
        event,
        users=handlers_of(summons.whistle.node, LEVEL_HANDLERS[summons.whistle.level]),
        subject=_("%(department)s reported in on ticket %(number)s")
        % {"department": summons.department.name, "number": ticket.number},
    )
    return summons


@transaction.atomic
def summons_record_action(
    *, actor: Actor, summons_id: int, note: str, photos: Sequence[File] = ()
) -> Summons:
    """The department records what it did; the summoning level then confirms."""
    summons = _lock_summons(actor, summons_id)
    if summons.reported_at is None:
        raise ValidationFailed(_("Report in before recording the work."))
    if summons.whistle.confirmed_at is not None:
        raise ValidationFailed(_("The summoning level has already confirmed this work."))
    note = _required(note, _("Say what your department did."))
    now = clock.now()
    summons.action_note, summons.acted_at = note, now
    summons.save(update_fields=["action_note", "acted_at"])
    ticket = summons.whistle.ticket
    event = _event(
        ticket,
        actor,
        EventAction.DEPARTMENT_ACTED,
        at=now,
        label=summons.department.name,
        note=note,
        data={"summons": summons.pk, "department": summons.department_id},
    )
    _attach(ticket, event, photos, now)
    notify_staff(
        ticket,
        event,
        users=handlers_of(summons.whistle.node, LEVEL_HANDLERS[summons.whistle.level]),
        subject=_("%(department)s recorded its work on ticket %(number)s")
        % {"department": summons.department.name, "number": ticket.number},
    )
    return summons


@transaction.atomic
def whistle_confirm(
    *, actor: Actor, whistle_id: int, note: str, photos: Sequence[File] = (), public_outcome: str = ""
) -> Ticket:
    """The summoning level confirms the departments' work, which resolves the ticket (with the
    optional text for the public board, as `ticket_resolve`)."""
    whistle = Whistle.objects.select_related("node").filter(pk=whistle_id).first()
    if whistle is None:
        raise NotFound()
    ticket = _lock(actor, whistle.ticket_id)
    whistle = Whistle.objects.select_for_update(of=("self",)).select_related("node").get(pk=whistle_id)
    if not actor.can(Perm.WHISTLE, whistle.node.path):
        raise PermissionDenied(_("Only the level that summoned the departments confirms their work."))
    if whistle.confirmed_at is not None:
        raise ValidationFailed(_("This work was already confirmed."))
    waiting = whistle.summonses.filter(acted_at__isnull=True).select_related("department")
    if waiting:
        names = "、".join(s.department.name for s in waiting)
        raise ValidationFailed(_("Still waiting for: %(names)s.") % {"names": names})
    note = _required(note, _("Say what was done."))
    public_outcome = clean_public_outcome(ticket, actor, public_outcome)
    now = clock.now()
    whistle.confirmed_at, whistle.confirmed_by = now, actor.user
    whistle.save(update_fields=["confirmed_at", "confirmed_by"])
    confirmed = _event(ticket, actor, EventAction.CONFIRMED, at=now, note=note, data={"whistle": whistle.pk})
    if ticket.whistles.filter(confirmed_at__isnull=True).exists():
        _attach(ticket, confirmed, photos, now)  # another whistle still waits: the photos stay with this step
    else:  # the photos are the outcome the resident rates
        _resolve(ticket, actor, note, photos, now, public_outcome)
    return ticket


def supervisors_of(node: Node, level: int) -> list[Any]:
    return handlers_of(node, LEVEL_SUPERVISORS[level])
