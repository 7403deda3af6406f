"""Reads of meetings and projects, scoped; the ICS feed; the figures communities report upward."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.accounts.permissions import Perm
from gongzhi.accounts.scope import Actor, scope_q
from gongzhi.core import clock
from gongzhi.core.errors import NotFound
from gongzhi.meetings.models import AgendaItem, Meeting, MeetingStatus, Project, ProjectStatus
from gongzhi.people.models import Person
from gongzhi.people.selectors import residents_by_phone
from gongzhi.territory.models import Node, Organization, OrganizationKind, subtree_q

# Organizations inside a place that may be invited or own its resolutions and projects.
LOCAL_ORGANIZATION_KINDS = (
    OrganizationKind.OWNERS_COMMITTEE,
    OrganizationKind.PROPERTY_MANAGER,
    OrganizationKind.CO_BUILDING_UNIT,
    OrganizationKind.SOCIAL_ORGANIZATION,
    OrganizationKind.RESIDENTS_COMMITTEE,
)


def organizations_for(node: Node) -> QuerySet[Organization]:
    """Organizations that may be invited to a meeting of `node` or own its resolutions and projects:
    those serving the node or its ancestors (departments only of the district), and the owners'
    committees, property managers, residents' committees and partners serving places inside it."""
    near = Q(nodes__path__in=node.ancestor_paths)
    inside = subtree_q("nodes__path", node.path) & Q(kind__in=LOCAL_ORGANIZATION_KINDS)
    ids = (
        Organization.objects.filter(near | inside)
        .exclude(kind=OrganizationKind.DEPARTMENT, nodes__depth__gt=1)
        .values("pk")
    )
    return Organization.objects.filter(pk__in=ids).order_by("kind", "name")


def residents_with_phone(*, node: Node, phone: str) -> list[Person]:
    """The residents of `node` (people whose home is inside it) registered with `phone`: usually one,
    more when family members share a phone."""
    return residents_by_phone(node_path=node.path, phone=phone)


def meeting_list(*, actor: Actor, node: Node | None = None) -> QuerySet[Meeting]:
    meetings = Meeting.objects.all()
    if node is not None:
        meetings = meetings.filter(subtree_q("node__path", node.path))
    return (
        meetings.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK))
        .select_related("node", "kind", "convener")
        .order_by("-starts_at", "-pk")
    )


def meeting_get(*, actor: Actor, meeting_id: int) -> Meeting:
    meeting = (
        meeting_list(actor=actor)
        .prefetch_related(
            "agenda__tickets",
            "invitees__organization",
            "invitees__person",
            "attendances",
            "resolutions__project",
        )
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None:
        raise NotFound()
    return meeting


def project_list(*, actor: Actor, node: Node | None = None) -> QuerySet[Project]:
    projects = Project.objects.all()
    if node is not None:
        projects = projects.filter(subtree_q("node__path", node.path))
    return projects.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK)).select_related("node", "owner")


def public_projects(*, community: Node) -> QuerySet[Project]:
    """A community's public project list (三公开): no login, no personal data."""
    return (
        Project.objects.filter(subtree_q("node__path", community.path), is_public=True)
        .exclude(status=ProjectStatus.CANCELLED)
        .select_related("owner")
        .prefetch_related("milestones", "funding", "photos")
        .annotate(
            stage=Case(
                When(status=ProjectStatus.UNDER_WAY, then=Value(0)),
                When(status=ProjectStatus.PLANNED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("stage", "deadline", "pk")
    )


@dataclass
class MeetingFigures:
    held_by_kind: dict[str, int] = field(default_factory=dict)
    meetings_held: int = 0
    residents_taking_part: int = 0
    matters_raised: int = 0
    matters_resolved: int = 0
    matters_open: int = 0


def meeting_figures(*, actor: Actor, node: Node, start: dt.datetime, end: dt.datetime) -> MeetingFigures:
    """Meetings held by kind, residents taking part, matters raised, resolved and still open, in [start, end)."""
    actor.ensure_can(Perm.VIEW_NETWORK, node.path)
    held = Meeting.objects.filter(
        subtree_q("node__path", node.path), status=MeetingStatus.HELD, starts_at__gte=start, starts_at__lt=end
    )
    by_kind = Counter(
        dict(held.values_list("kind__name").annotate(n=Count("pk")).values_list("kind__name", "n"))
    )
    resolutions = Project.objects.filter(resolution__meeting__in=held)
    return MeetingFigures(
        held_by_kind=dict(by_kind),
        meetings_held=sum(by_kind.values()),
        residents_taking_part=sum(held.values_list("residents_attending", flat=True)),
        matters_raised=AgendaItem.objects.filter(meeting__in=held).count(),
        matters_resolved=resolutions.filter(status=ProjectStatus.DONE).count(),
        matters_open=resolutions.filter(
            Q(status=ProjectStatus.PLANNED) | Q(status=ProjectStatus.UNDER_WAY)
        ).count(),
    )


def _invited_q(user: User) -> Q:
    """Meetings `user` is invited to, as invited_users reaches them: as a person, through an
    organization they hold a role in, or by a role they hold inside the meeting's node."""
    condition = Q(pk__in=[])
    if user.person_id:
        condition |= Q(invitees__person_id=user.person_id)
    assignments = RoleAssignment.objects.active_on(clock.today()).filter(user=user)
    organizations = [o for o in assignments.values_list("organization_id", flat=True) if o]
    if organizations:
        condition |= Q(invitees__organization_id__in=organizations)
    for role, path in assignments.filter(node__isnull=False).values_list("role", "node__path"):
        # A role invited to a meeting reaches its holders anywhere inside the meeting's node.
        containing = [path[:end] for end in range(Node.steplen, len(path) + 1, Node.steplen)]
        condition |= Q(invitees__role=role, node__path__in=containing)
    return condition


def calendar_meetings(*, actor: Actor, now: dt.datetime) -> QuerySet[Meeting]:
    """The meetings of a user's calendar, from 30 days ago on: those in their scope (staff) and those
    they are invited to (residents with an account too), cancelled ones left out."""
    invited = Meeting.objects.filter(_invited_q(actor.user)).values("pk") if actor.user else []
    return (
        Meeting.objects.filter(scope_q(actor, "node__path", Perm.VIEW_NETWORK) | Q(pk__in=invited))
        .filter(starts_at__gte=now - dt.timedelta(days=30))
        .exclude(status=MeetingStatus.CANCELLED)
        .select_related("node", "kind")
        .order_by("starts_at", "pk")
    )


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics_feed(*, actor: Actor, host: str, now: dt.datetime) -> str:
    """RFC 5545 calendar of the actor's meetings (calendar_meetings; lines folded at 75 octets)."""
    meetings = calendar_meetings(actor=actor, now=now)[:500]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Gongzhi//Meetings//ZH",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:共治 · 议事日程",
    ]
    for meeting in meetings:
        lines += [
            "BEGIN:VEVENT",
            f"UID:meeting-{meeting.pk}@{host}",
            f"DTSTAMP:{_ics_time(now)}",
            f"DTSTART:{_ics_time(meeting.starts_at)}",
            f"DTEND:{_ics_time(meeting.ends_at)}",
            f"SUMMARY:{_ics_text(f'{meeting.kind.name}：{meeting.title}')}",
            f"LOCATION:{_ics_text(meeting.place)}",
            f"DESCRIPTION:{_ics_text(meeting.node.name)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _fold(line: str) -> str:
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)
