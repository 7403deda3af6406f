"""Every write of meetings and projects: convene, invite, sign in, record minutes and resolutions,
and carry each resolution as a project to the end."""

from __future__ import annotations

import calendar
import datetime as dt
import re
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
from gongzhi.audit.models import AuditAction
from gongzhi.audit.services import audit_record
from gongzhi.core import clock
from gongzhi.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
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
    MinutesRevision,
    Project,
    ProjectStatus,
    Recurrence,
    Resolution,
)
from gongzhi.meetings.selectors import organizations_for, residents_with_phone
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


# A series holds at most this many meetings (a year of weekly ones); one that reaches it stops there
# and says so, and can be convened again from its last date.
MAX_OCCURRENCES = 52


@dataclass
class Occurrences:
    times: list[tuple[dt.datetime, dt.datetime]]
    stopped_at_limit: bool = False  # the series reached MAX_OCCURRENCES before its end date


def _monthly(local: dt.datetime, step: int) -> dt.datetime:
    """The same day of the month `step` months on, the month's last day when it is shorter
    (31 January → 28 or 29 February → 31 March: the day is kept, not worn down)."""
    month_index = local.month - 1 + step
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


def occurrences(spec: MeetingSpec) -> Occurrences:
    """The meeting's times: once, or every week or month (local wall time) until `until`."""
    result = Occurrences(times=[(spec.starts_at, spec.ends_at)])
    if not spec.recurrence or spec.until is None:
        return result
    local, length = clock.localtime(spec.starts_at), spec.ends_at - spec.starts_at
    step = 1
    while True:
        if spec.recurrence == Recurrence.WEEKLY:
            moment = local + dt.timedelta(weeks=step)
        else:
            moment = _monthly(local, step)
        if moment.date() > spec.until:
            return result
        if len(result.times) >= MAX_OCCURRENCES:
            result.stopped_at_limit = True
            return result
        result.times.append((moment, moment + length))
        step += 1


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


def invited_phones(meeting: Meeting) -> list[str]:
    """The phones of the people invited by name who have no account to read an inbox (a resident, a
    representative): they hear of the meeting by SMS."""
    people = Person.objects.filter(
        pk__in=meeting.invitees.filter(person__isnull=False).values("person")
    ).exclude(user__is_active=True)
    return [phone for phone in people.values_list("phone", flat=True) if phone]


def _series_body(meetings: list[Meeting], stopped_at_limit: bool) -> str:
    """The invitation's body for a series: every date, so invitees can note them all at once (the
    limit first when the series stopped at it: the inbox shows the start of long bodies)."""
    if len(meetings) < 2:
        return ""
    dates = "、".join(clock.localtime(m.starts_at).strftime("%Y-%m-%d") for m in meetings)
    body = _("This meeting repeats, %(count)d times: %(dates)s.") % {"count": len(meetings), "dates": dates}
    if stopped_at_limit:
        limit = _(
            "A series holds at most %(limit)d meetings: it stops on %(last)s. Convene it again to go on."
        ) % {"limit": MAX_OCCURRENCES, "last": dates.rsplit("、", 1)[-1]}
        body = f"{limit} {body}"
    return body


@transaction.atomic
def meeting_create(*, actor: Actor, spec: MeetingSpec) -> list[Meeting]:
    """Convene a meeting (and its later occurrences when it recurs); invitees hear of it in their inbox,
    with every date of a series."""
    node, kind = _check(actor, spec)
    tickets = {}
    ticket_ids = {tid for item in spec.agenda for tid in item.ticket_ids}
    if ticket_ids:
        tickets = {t.pk: t for t in Ticket.objects.visible_to(actor).filter(pk__in=ticket_ids)}
        if len(tickets) != len(ticket_ids):
            raise NotFound()
    times = occurrences(spec)
    series = None
    if spec.recurrence:
        assert spec.until is not None
        last_day = clock.localtime(times.times[-1][0]).date()
        series = MeetingSeries.objects.create(recurrence=spec.recurrence, until=last_day)
    meetings = []
    now = clock.now()
    for starts, ends in times.times:
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
        _audit(
            actor,
            meeting,
            "status",
            {
                "status": [None, MeetingStatus.SCHEDULED.value],
                "series": series.pk if series else None,
            },
            created=True,
        )
        meetings.append(meeting)
    first = meetings[0]
    _tell_invitees(
        first,
        event="invited",
        subject=_("Invitation: %(title)s, %(when)s, %(place)s")
        % {
            "title": first.title,
            "when": clock.localtime(first.starts_at).strftime("%m-%d %H:%M"),
            "place": first.place,
        },
        body=_series_body(meetings, times.stopped_at_limit),
    )
    return meetings


def _tell_invitees(meeting: Meeting, *, event: str, subject: str, body: str) -> None:
    """Staff hear in their inbox, with a link to the meeting's page; people without an account by an
    SMS that says it all (the page is for staff: no link)."""
    key, event_type = f"meeting:{meeting.pk}:{event}", f"meeting.{event}"
    notify(
        key=key,
        event_type=event_type,
        subject=subject,
        body=body,
        url=reverse("meetings:detail", args=[meeting.pk]),
        users=invited_users(meeting),
    )
    notify(
        key=key,
        event_type=event_type,
        subject=f"{subject} {body}".strip() if len(subject) + len(body) < 200 else subject,
        phones=invited_phones(meeting),
    )


def _audit(
    actor: Actor | None,
    target: Meeting | Project,
    field: str,
    changes: dict[str, object],
    *,
    reason: str = "",
    created: bool = False,
) -> None:
    """The audit row of a change (who, when, what, from → to, note), in the caller's transaction:
    state changes write {"status": [from, to]}."""
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        target=target,
        node_path=target.node.path,
        field=field,
        reason=reason,
        changes=changes,
    )


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
    _audit(actor, meeting, "signin_token", {})
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
def meeting_sign_in(*, token: str, phone: str, person_id: int | None = None) -> Attendance:
    """A resident of the meeting's node signs in by scanning the meeting's code (the view verified the
    phone). When family members share the phone, `person_id` says which of them signs in."""
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
    people = residents_with_phone(node=meeting.node, phone=phone) if phone else []
    if not people:
        if phone and Person.objects.filter(phone=phone).exists():
            raise Refused(
                _(
                    "This meeting is for the residents of %(node)s, and your phone is registered for a "
                    "home elsewhere. Ask the staff at the meeting to sign you in."
                )
                % {"node": meeting.node.name},
                code="outside",
            )
        raise Refused(
            _("Your phone is not registered; ask the staff at the meeting to sign you in."), code="unknown"
        )
    if person_id is None and len(people) > 1:
        raise Refused(
            _("Several residents share this phone: choose who is signing in."), code="choose_person"
        )
    person = people[0] if person_id is None else next((p for p in people if p.pk == person_id), None)
    if person is None:
        raise Refused(_("Choose one of the residents registered with this phone."), code="choose_person")
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


# Minutes typed as plain text keep their paragraphs and line breaks; minutes written with block tags
# are taken as HTML. Either way nh3 keeps only MINUTES_TAGS.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(p|br|ul|ol|li|h3|h4|blockquote|table|tr|td|th)\b", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n\s*\n")


def sanitize_minutes(html: str) -> str:
    return nh3.clean(html or "", tags=MINUTES_TAGS, attributes={}, link_rel=None)


def minutes_html(text: str) -> str:
    """The stored minutes: plain text becomes paragraphs (a blank line apart) with line breaks."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if text and not _BLOCK_TAG.search(text):
        paragraphs = [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]
        text = "\n".join(
            "<p>" + "<br>\n".join(line.rstrip() for line in p.split("\n")) + "</p>" for p in paragraphs
        )
    return sanitize_minutes(text)


_ONLY_PARAGRAPHS = re.compile(
    r"^(?:<p>(?:(?!</?(?:p|ul|ol|li|h3|h4|blockquote|table|tr|td|th)\b).)*</p>\s*)+$", re.S
)


def minutes_source(html: str) -> str:
    """The text to edit for a correction: minutes made of paragraphs and line breaks read back as the
    plain text they came from (minutes_html gives the same minutes again); other HTML stays HTML."""
    if not _ONLY_PARAGRAPHS.match(html or ""):
        return html or ""
    paragraphs = re.findall(r"<p>(.*?)</p>", html, re.S)
    return "\n\n".join(re.sub(r"<br>\n?", "\n", p) for p in paragraphs)


@dataclass
class ResolutionSpec:
    text: str
    owner_id: int
    deadline: dt.date
    budget: Decimal = Decimal(0)


def _clean_minutes(minutes: str) -> str:
    clean = minutes_html(minutes)
    if not clean.strip():
        raise ValidationFailed(
            _("Write the minutes."), extra={"fields": {"minutes": _("Write the minutes.")}}
        )
    return clean


@transaction.atomic
def meeting_record(
    *, actor: Actor, meeting_id: int, minutes: str, resolutions: Sequence[ResolutionSpec] = ()
) -> Meeting:
    """Record the minutes (sanitized) and the resolutions; each resolution becomes a project."""
    meeting = _locked(actor, meeting_id)
    if MeetingStatus.HELD not in MEETING_TRANSITIONS[MeetingStatus(meeting.status)]:
        raise Refused(_("The minutes of this meeting are already recorded."))
    clean = _clean_minutes(minutes)
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
        _audit(
            actor,
            project,
            "status",
            {"status": [None, ProjectStatus.PLANNED.value], "meeting": meeting.pk},
            created=True,
        )
    old = meeting.status
    meeting.minutes, meeting.status = clean, MeetingStatus.HELD
    meeting.save(update_fields=["minutes", "status"])
    _audit(actor, meeting, "status", {"status": [old, meeting.status]})
    return meeting


MINUTES_NOTE_MIN = 4


@transaction.atomic
def meeting_minutes_correct(*, actor: Actor, meeting_id: int, minutes: str, note: str) -> MinutesRevision:
    """The convener corrects the minutes of a meeting that was held. The version it replaces is kept
    (MinutesRevision) and the correction audited with its note: the record of a meeting is never
    silently rewritten."""
    meeting = _locked(actor, meeting_id)
    if meeting.status != MeetingStatus.HELD:
        raise Refused(_("Only the minutes of a meeting that was held can be corrected."))
    if not actor.is_superuser and (actor.user is None or actor.user.pk != meeting.convener_id):
        raise PermissionDenied(_("Only the convener of the meeting can correct its minutes."))
    errors: dict[str, str] = {}
    try:
        clean = _clean_minutes(minutes)
    except ValidationFailed as error:
        errors.update(error.extra["fields"])
        clean = ""
    note = (note or "").strip()
    if len(note) < MINUTES_NOTE_MIN:
        errors["note"] = _("Say what was corrected and why.")
    if clean and clean == meeting.minutes:
        errors["minutes"] = _("The minutes are unchanged.")
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    now = clock.now()
    revision = MinutesRevision.objects.create(
        meeting=meeting, minutes=meeting.minutes, note=note[:500], corrected_by=actor.user, corrected_at=now
    )
    meeting.minutes = clean
    meeting.save(update_fields=["minutes"])
    _audit(
        actor,
        meeting,
        "minutes",
        {"revision": revision.pk, "length": [len(revision.minutes), len(clean)]},
        reason=revision.note,
    )
    return revision


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting_id: int, note: str = "") -> Meeting:
    meeting = _locked(actor, meeting_id)
    if MeetingStatus.CANCELLED not in MEETING_TRANSITIONS[MeetingStatus(meeting.status)]:
        raise Refused(_("A meeting that was held cannot be cancelled."))
    old, meeting.status = meeting.status, MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    note = (note or "").strip()[:500]
    _audit(actor, meeting, "status", {"status": [old, meeting.status]}, reason=note)
    _tell_invitees(
        meeting, event="cancelled", subject=_("Cancelled: %(title)s") % {"title": meeting.title}, body=note
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


@dataclass
class FundingSpec:
    source: str
    amount: Decimal


@dataclass
class MilestoneSpec:
    title: str
    due: dt.date | None = None


def _check_project(
    node: Node,
    *,
    title: str,
    owner_id: int | None,
    deadline: dt.date | None,
    budget: Decimal,
    funding: Sequence[FundingSpec],
    milestones: Sequence[MilestoneSpec],
) -> tuple[Organization | None, dict[str, str]]:
    errors: dict[str, str] = {}
    if not 2 <= len(title.strip()) <= 200:
        errors["title"] = _("Write a title of 2 to 200 characters.")
    # The owner must be one of the organizations that serve the place (or the levels above it).
    owner = organizations_for(node).filter(pk=owner_id).first() if owner_id else None
    if owner is None:
        errors["owner"] = _("Choose the organization responsible for the project.")
    if deadline is None:
        errors["deadline"] = _("Set a deadline.")
    if budget < 0:
        errors["budget"] = _("The budget cannot be negative.")
    for number, spec in enumerate(funding, start=1):
        if not spec.source.strip() or spec.amount <= 0:
            errors[f"funding_{number}"] = _("Name the source and a positive amount.")
    for number, milestone in enumerate(milestones, start=1):
        if not milestone.title.strip():
            errors[f"milestone_{number}"] = _("Name the milestone.")
        elif milestone.due and deadline and milestone.due > deadline:
            errors[f"milestone_{number}"] = _("A milestone cannot be due after the project's deadline.")
    return owner, errors


@transaction.atomic
def project_create(
    *,
    actor: Actor,
    node_id: int,
    title: str,
    owner_id: int | None,
    deadline: dt.date | None,
    budget: Decimal = Decimal(0),
    description: str = "",
    funding: Sequence[FundingSpec] = (),
    milestones: Sequence[MilestoneSpec] = (),
    is_public: bool = True,
) -> Project:
    """A 我为群众办实事 item that did not come from a meeting: its owner, budget and funding sources and
    its milestones, in one go."""
    node = Node.objects.filter(pk=node_id).first()
    if node is None:
        raise NotFound()
    actor.ensure_can(Perm.RUN_MEETINGS, node.path)
    owner, errors = _check_project(
        node,
        title=title,
        owner_id=owner_id,
        deadline=deadline,
        budget=budget,
        funding=funding,
        milestones=milestones,
    )
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), extra={"fields": errors})
    assert owner is not None and deadline is not None
    project = Project.objects.create(
        node=node,
        title=title.strip()[:200],
        description=description.strip(),
        owner=owner,
        deadline=deadline,
        budget=budget,
        is_public=is_public,
        created_at=clock.now(),
    )
    FundingSource.objects.bulk_create(
        [FundingSource(project=project, source=f.source.strip()[:100], amount=f.amount) for f in funding]
    )
    Milestone.objects.bulk_create(
        [
            Milestone(project=project, order=order, title=m.title.strip()[:200], due=m.due)
            for order, m in enumerate(milestones, start=1)
        ]
    )
    _audit(
        actor,
        project,
        "status",
        {
            "status": [None, ProjectStatus.PLANNED.value],
            "budget": str(budget),
            "funding": len(funding),
            "milestones": len(milestones),
        },
        created=True,
    )
    return project


@transaction.atomic
def project_move(*, actor: Actor, project_id: int, to: str, note: str = "") -> Project:
    project = _project(actor, project_id)
    if to not in ProjectStatus.values:
        raise ValidationFailed(_("Unknown status."))
    target = ProjectStatus(to)
    if target not in PROJECT_TRANSITIONS[ProjectStatus(project.status)]:
        raise Refused(
            _("A project that is “%(status)s” cannot become “%(to)s”.")
            % {"status": ProjectStatus(project.status).label, "to": target.label}
        )
    old, project.status = project.status, target
    project.finished_at = clock.now() if target == ProjectStatus.DONE else None
    project.save(update_fields=["status", "finished_at"])
    _audit(actor, project, "status", {"status": [old, target.value]}, reason=(note or "").strip()[:500])
    return project


@transaction.atomic
def project_add_funding(*, actor: Actor, project_id: int, source: str, amount: Decimal) -> FundingSource:
    project = _project(actor, project_id)
    if amount <= 0 or not source.strip():
        raise ValidationFailed(_("Name the source and a positive amount."))
    funding = FundingSource.objects.create(project=project, source=source.strip()[:100], amount=amount)
    _audit(actor, project, "funding", {"added": funding.source, "amount": str(amount)})
    return funding


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
    if not title.strip():
        raise ValidationFailed(_("Name the milestone."))
    order = project.milestones.count() + 1
    milestone = Milestone.objects.create(
        project=project, order=order, title=title.strip()[:200], due=due, done_at=done_at, note=note
    )
    _audit(actor, project, "milestones", {"added": milestone.title, "due": str(due or "")})
    return milestone


@transaction.atomic
def milestone_done(*, actor: Actor, milestone_id: int, on: dt.date, note: str = "") -> Milestone:
    milestone = Milestone.objects.select_related("project").filter(pk=milestone_id).first()
    if milestone is None:
        raise NotFound()
    project = _project(actor, milestone.project_id)
    old = milestone.done_at
    milestone.done_at, milestone.note = on, note.strip()[:500] or milestone.note
    milestone.save(update_fields=["done_at", "note"])
    _audit(
        actor,
        project,
        "milestones",
        {"milestone": milestone.title, "done_at": [str(old) if old else None, str(on)]},
    )
    return milestone


@transaction.atomic
def project_rate(*, project_id: int, satisfied: bool, phone: str) -> Project:
    """A resident's satisfaction with a finished project: only residents of the project's place rate it
    (the view verified the phone and dedupes by it)."""
    project = (
        Project.objects.select_related("node")
        .filter(pk=project_id, status=ProjectStatus.DONE, is_public=True)
        .first()
    )
    if project is None:
        raise NotFound()
    if not residents_with_phone(node=project.node, phone=phone):
        raise Refused(
            _("Only the residents of %(place)s can rate this project; your phone is not registered there.")
            % {"place": project.node.name},
            code="not_a_resident",
        )
    field_name = "satisfied" if satisfied else "unsatisfied"
    Project.objects.filter(pk=project.pk).update(**{field_name: F(field_name) + 1})
    project.refresh_from_db()
    return project
