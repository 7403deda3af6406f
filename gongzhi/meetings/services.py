"""Every write of meetings and projects: convene, invite, sign in, record minutes and resolutions,
and carry each resolution as a project to the end."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import nh3
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from gongzhi.accounts.models import Role, RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, ValidationFailed
from gongzhi.meetings.models import (
    MEETING_TRANSITIONS,
    PROJECT_TRANSITIONS,
    AgendaItem,
    Attendance,
    AttendanceMethod,
    FundingSource,
    Invitee,
    Meeting,
    MeetingKind,
    MeetingSeries,
    MeetingStatus,
    Milestone,
    Project,
    ProjectStatus,
    Recurrence,
    Resolution,
)
from gongzhi.notifications.services import notify
from gongzhi.people.models import Person
from gongzhi.territory.models import Node, Organization, subtree_q
from gongzhi.tickets.models import Ticket

MINUTES_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "blockquote",
    "table",
    "tr",
    "td",
    "th",
}


class Refused(ApplicationError):
    code = "refused"
    status = 409


@dataclass
class AgendaSpec:
    title: str
    notes: str = ""
    ticket_ids: Sequence[int] = ()
    survey_id: int | None = None


@dataclass
class MeetingSpec:
    node_id: int
    kind_code: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str
    agenda: Sequence[AgendaSpec] = ()
    invite_roles: Sequence[str] = ()
    invite_organization_ids: Sequence[int] = ()
    invite_person_ids: Sequence[int] = ()
    recurrence: str = ""
    until: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _check(actor: Actor, spec: MeetingSpec) -> tuple[Node, MeetingKind]:
    node = Node.objects.filter(pk=spec.node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_MEETINGS, node.path)
    errors: dict[str, str] = {}
    kind = MeetingKind.objects.filter(code=spec.kind_code, is_active=True).first()
    if kind is None:
        errors["kind"] = _("Choose the kind of meeting.")
    if not 2 <= len(spec.title.strip()) <= 200:
        errors["title"] = _("Write a title of 2 to 200 characters.")
    if not spec.place.strip():
        errors["place"] = _("Say where the meeting is held.")
    if spec.ends_at <= spec.starts_at:
        errors["ends_at"] = _("The meeting must end after it starts.")
    if spec.recurrence and (spec.recurrence not in Recurrence.values or spec.until is None):
        errors["recurrence"] = _("A recurring meeting needs an end date.")
    roles = set(spec.invite_roles) - set(Role.values)
    if roles:
        errors["invitees"] = _("Unknown role.")
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    assert kind is not None
    return node, kind


def _occurrences(spec: MeetingSpec) -> list[tuple[dt.datetime, dt.datetime]]:
    times = [(spec.starts_at, spec.ends_at)]
    if not spec.recurrence or spec.until is None:
        return times
    start, length = spec.starts_at, spec.ends_at - spec.starts_at
    for step in range(1, 60):
        if spec.recurrence == Recurrence.WEEKLY:
            moment = start + dt.timedelta(weeks=step)
        else:
            local = clock.localtime(start)
            month = local.month - 1 + step
            year, month = local.year + month // 12, month % 12 + 1
            day = min(local.day, 28)
            moment = local.replace(year=year, month=month, day=day)
        if clock.localtime(moment).date() > spec.until:
            break
        times.append((moment, moment + length))
    return times


def invited_users(meeting: Meeting) -> list[User]:
    roles = list(meeting.invitees.exclude(role="").values_list("role", flat=True))
    organizations = list(
        meeting.invitees.filter(organization__isnull=False).values_list("organization_id", flat=True)
    )
    assignments = RoleAssignment.objects.active_on(clock.today())
    # A role invited to a community meeting reaches everyone holding it inside the community
    # (building leaders hold theirs on buildings).
    user_ids = set(
        assignments.filter(subtree_q("node__path", meeting.node.path), role__in=roles).values_list(
            "user_id", flat=True
        )
    )
    user_ids |= set(assignments.filter(organization_id__in=organizations).values_list("user_id", flat=True))
    user_ids |= set(
        User.objects.filter(
            person__in=meeting.invitees.filter(person__isnull=False).values("person")
        ).values_list("pk", flat=True)
    )
    return list(User.objects.filter(pk__in=user_ids, is_active=True))


@transaction.atomic
def meeting_create(*, actor: Actor, spec: MeetingSpec) -> list[Meeting]:
    """Convene a meeting (and its later occurrences when it recurs); invitees hear of it in their inbox."""
    node, kind = _check(actor, spec)
    tickets = {}
    ticket_ids = {tid for item in spec.agenda for tid in item.ticket_ids}
    if ticket_ids:
        tickets = {t.pk: t for t in Ticket.objects.visible_to(actor).filter(pk__in=ticket_ids)}
        if len(tickets) != len(ticket_ids):
            raise NotFound()
    series = None
    if spec.recurrence:
        assert spec.until is not None
        series = MeetingSeries.objects.create(recurrence=spec.recurrence, until=spec.until)
    meetings = []
    now = clock.now()
    for starts, ends in _occurrences(spec):
        meeting = Meeting.objects.create(
            node=node,
            kind=kind,
            title=spec.title.strip(),
            starts_at=starts,
            ends_at=ends,
            place=spec.place.strip(),
            convener=actor.user,  # type: ignore[misc]  # staff actors always have a user
            series=series,
            signin_token=secrets.token_urlsafe(16),
            created_at=now,
        )
        for order, item in enumerate(spec.agenda, start=1):
            agenda = AgendaItem.objects.create(
                meeting=meeting,
                order=order,
                title=item.title.strip()[:200],
                notes=item.notes.strip(),
                survey_id=item.survey_id,
            )
            agenda.tickets.set([tickets[tid] for tid in item.ticket_ids])
        Invitee.objects.bulk_create(
            [Invitee(meeting=meeting, role=role) for role in sorted(set(spec.invite_roles))]
            + [Invitee(meeting=meeting, organization_id=o) for o in sorted(set(spec.invite_organization_ids))]
            + [Invitee(meeting=meeting, person_id=p) for p in sorted(set(spec.invite_person_ids))]
        )
        meetings.append(meeting)
    first = meetings[0]
    notify(
        key=f"meeting:{first.pk}:invited",
        event_type="meeting.invited",
        subject=_("Invitation: %(title)s, %(when)s, %(place)s")
        % {
            "title": first.title,
            "when": clock.localtime(first.starts_at).strftime("%m-%d %H:%M"),
            "place": first.place,
        },
        url=reverse("meetings:detail", args=[first.pk]),
        users=invited_users(first),
    )
    return meetings


def _locked(actor: Actor, meeting_id: int) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update(of=("self",)).select_related("node").filter(pk=meeting_id).first()
    )
    if meeting is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_MEETINGS, meeting.node.path)
    return meeting


@transaction.atomic
def meeting_rotate_code(*, actor: Actor, meeting_id: int) -> Meeting:
    """A new sign-in code: codes shown or printed before stop working."""
    meeting = _locked(actor, meeting_id)
    meeting.signin_token = secrets.token_urlsafe(16)
    meeting.save(update_fields=["signin_token"])
    return meeting


def _sign(meeting: Meeting, *, person: Person | None, user: User | None, method: str) -> Attendance:
    name = person.name if person is not None else (user.get_full_name() or user.username if user else "")
    try:
        with transaction.atomic():
            attendance = Attendance.objects.create(
                meeting=meeting, person=person, user=user, name=name, method=method, signed_at=clock.now()
            )
    except IntegrityError:
        raise Refused(
            _("%(name)s has already signed in.") % {"name": name}, code="already_signed_in"
        ) from None
    if person is not None:
        Meeting.objects.filter(pk=meeting.pk).update(residents_attending=F("residents_attending") + 1)
    return attendance


@transaction.atomic
def meeting_sign_in(*, token: str, phone: str) -> Attendance:
    """A resident signs in by scanning the meeting's code (the view verified the phone)."""
    meeting = Meeting.objects.select_related("node").filter(signin_token=token).first() if token else None
    if meeting is None:
        raise Refused(
            _("This sign-in code is no longer valid; scan the code shown at the meeting."), code="stale_code"
        )
    now = clock.now()
    if meeting.status != MeetingStatus.SCHEDULED or not (
        meeting.starts_at - dt.timedelta(hours=1) <= now <= meeting.ends_at + dt.timedelta(hours=1)
    ):
        raise Refused(
            _("Sign-in is open from an hour before the meeting until an hour after it."), code="not_now"
        )
    person = Person.objects.filter(phone=phone).first() if phone else None
    if person is None:
        raise Refused(
            _("Your phone is not registered; ask the staff at the meeting to sign you in."), code="unknown"
        )
    return _sign(meeting, person=person, user=None, method=AttendanceMethod.QR)


@transaction.atomic
def meeting_sign_in_by_staff(
    *, actor: Actor, meeting_id: int, person_id: int | None = None, user_id: int | None = None
) -> Attendance:
    meeting = _locked(actor, meeting_id)
    person = Person.objects.filter(pk=person_id).first() if person_id else None
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if person is None and user is None:
        raise NotFound()
    return _sign(meeting, person=person, user=user, method=AttendanceMethod.STAFF)


def sanitize_minutes(html: str) -> str:
    return nh3.clean(html or "", tags=MINUTES_TAGS, attributes={}, link_rel=None)


@dataclass
class ResolutionSpec:
    text: str
    owner_id: int
    deadline: dt.date
    budget: Decimal = Decimal(0)


@transaction.atomic
def meeting_record(
    *, actor: Actor, meeting_id: int, minutes: str, resolutions: Sequence[ResolutionSpec] = ()
) -> Meeting:
    """Record the minutes (sanitized) and the resolutions; each resolution becomes a project."""
    meeting = _locked(actor, meeting_id)
    if MeetingStatus.HELD not in MEETING_TRANSITIONS[MeetingStatus(meeting.status)]:
        raise Refused(_("The minutes of this meeting are already recorded."))
    clean = sanitize_minutes(minutes)
    if not clean.strip():
        raise ValidationFailed(
            _("Write the minutes."), extra={"fields": {"minutes": _("Write the minutes.")}}
        )
    owners = {o.pk: o for o in Organization.objects.filter(pk__in=[r.owner_id for r in resolutions])}
    now = clock.now()
    for spec in resolutions:
        if spec.owner_id not in owners or not spec.text.strip():
            raise ValidationFailed(_("Each resolution needs its text and an owner organization."))
        project = Project.objects.create(
            node=meeting.node,
            title=spec.text.strip()[:200],
            description=spec.text.strip(),
            owner=owners[spec.owner_id],
            deadline=spec.deadline,
            budget=spec.budget,
            created_at=now,
        )
        Resolution.objects.create(
            meeting=meeting,
            text=spec.text.strip(),
            owner=owners[spec.owner_id],
            deadline=spec.deadline,
            project=project,
        )
    meeting.minutes, meeting.status = clean, MeetingStatus.HELD
    meeting.save(update_fields=["minutes", "status"])
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting_id: int) -> Meeting:
    meeting = _locked(actor, meeting_id)
    if MeetingStatus.CANCELLED not in MEETING_TRANSITIONS[MeetingStatus(meeting.status)]:
        raise Refused(_("A meeting that was held cannot be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    notify(
        key=f"meeting:{meeting.pk}:cancelled",
        event_type="meeting.cancelled",
        subject=_("Cancelled: %(title)s") % {"title": meeting.title},
        users=invited_users(meeting),
    )
    return meeting


# --- Projects -------------------------------------------------------------------------------------


def _project(actor: Actor, project_id: int) -> Project:
    project = (
        Project.objects.select_for_update(of=("self",)).select_related("node").filter(pk=project_id).first()
    )
    if project is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_MEETINGS, project.node.path)
    return project


@transaction.atomic
def project_create(
    *,
    actor: Actor,
    node_id: int,
    title: str,
    owner_id: int,
    deadline: dt.date,
    budget: Decimal = Decimal(0),
    description: str = "",
) -> Project:
    """A 我为群众办实事 item that did not come from a meeting."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_MEETINGS, node.path)
    owner = Organization.objects.filter(pk=owner_id).first()
    if owner is None or not title.strip():
        raise ValidationFailed(_("A project needs a title and an owner organization."))
    if budget < 0:
        raise ValidationFailed(_("The budget cannot be negative."))
    return Project.objects.create(
        node=node,
        title=title.strip()[:200],
        description=description.strip(),
        owner=owner,
        deadline=deadline,
        budget=budget,
        created_at=clock.now(),
    )


@transaction.atomic
def project_move(*, actor: Actor, project_id: int, to: str) -> Project:
    project = _project(actor, project_id)
    target = ProjectStatus(to)
    if target not in PROJECT_TRANSITIONS[ProjectStatus(project.status)]:
        raise Refused(
            _("A project that is “%(status)s” cannot become “%(to)s”.")
            % {"status": ProjectStatus(project.status).label, "to": target.label}
        )
    project.status = target
    project.finished_at = clock.now() if target == ProjectStatus.DONE else None
    project.save(update_fields=["status", "finished_at"])
    return project


@transaction.atomic
def project_add_funding(*, actor: Actor, project_id: int, source: str, amount: Decimal) -> FundingSource:
    project = _project(actor, project_id)
    if amount <= 0 or not source.strip():
        raise ValidationFailed(_("Name the source and a positive amount."))
    return FundingSource.objects.create(project=project, source=source.strip()[:100], amount=amount)


@transaction.atomic
def project_add_milestone(
    *,
    actor: Actor,
    project_id: int,
    title: str,
    due: dt.date | None = None,
    done_at: dt.date | None = None,
    note: str = "",
) -> Milestone:
    project = _project(actor, project_id)
    order = project.milestones.count() + 1
    return Milestone.objects.create(
        project=project, order=order, title=title.strip()[:200], due=due, done_at=done_at, note=note
    )


@transaction.atomic
def milestone_done(*, actor: Actor, milestone_id: int, on: dt.date, note: str = "") -> Milestone:
    milestone = Milestone.objects.select_related("project").filter(pk=milestone_id).first()
    if milestone is None:
        raise NotFound()
    _project(actor, milestone.project_id)
    milestone.done_at, milestone.note = on, note.strip()[:500] or milestone.note
    milestone.save(update_fields=["done_at", "note"])
    return milestone


@transaction.atomic
def project_rate(*, project_id: int, satisfied: bool) -> Project:
    """A resident's satisfaction with a finished project (the view verified the phone and dedupes)."""
    project = Project.objects.filter(pk=project_id, status=ProjectStatus.DONE, is_public=True).first()
    if project is None:
        raise NotFound()
    field_name = "satisfied" if satisfied else "unsatisfied"
    Project.objects.filter(pk=project.pk).update(**{field_name: F(field_name) + 1})
    project.refresh_from_db()
    return project
