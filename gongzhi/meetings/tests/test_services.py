"""Meetings and projects through the services: convene from tickets, sign in, minutes, resolutions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.testing import make_user
from gongzhi.meetings.models import CalendarFeed, Meeting, MeetingStatus, Project, ProjectStatus
from gongzhi.meetings.selectors import ics_feed, meeting_figures
from gongzhi.meetings.services import (
    AgendaSpec,
    MeetingSpec,
    Refused,
    ResolutionSpec,
    meeting_cancel,
    meeting_create,
    meeting_record,
    meeting_rotate_code,
    meeting_sign_in,
    meeting_sign_in_by_staff,
    project_add_funding,
    project_move,
)
from gongzhi.notifications.models import Notification
from gongzhi.territory.models import Organization
from gongzhi.tickets.tests.factories import make_world, submit

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # Friday 09:00 in Shanghai
MEETS = NOW + dt.timedelta(days=3)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(clock):
    world = make_world()
    world.property_manager = Organization.objects.create(
        code="pm-1", name="春都物业", kind="property_manager"
    )
    world.owners_committee = Organization.objects.create(
        code="oc-1", name="春都华府业委会", kind="owners_committee"
    )
    return world


def spec(world, **fields) -> MeetingSpec:
    defaults = {
        "node_id": world.tree.community.pk,
        "kind_code": "four-in-one",
        "title": "春都华府漏水与停车问题联席会",
        "starts_at": MEETS,
        "ends_at": MEETS + dt.timedelta(hours=2),
        "place": "奎星楼社区党群服务中心二楼",
        "invite_roles": ["grid_worker"],
        "invite_organization_ids": [world.property_manager.pk, world.owners_committee.pk],
    }
    defaults.update(fields)
    return MeetingSpec(**defaults)


def test_a_four_in_one_meeting_from_three_tickets_invites_and_resolves_into_a_project(world, clock) -> None:
    tickets = [submit(world.tree, submit_key=f"m{i}") for i in range(3)]
    staff = world.actor(world.community_staff)
    (meeting,) = meeting_create(
        actor=staff,
        spec=spec(
            world,
            agenda=[AgendaSpec("楼顶防水层老化漏水", ticket_ids=[t.pk for t in tickets])],
            invite_roles=["community_staff"],
        ),
    )
    assert list(meeting.agenda.get().tickets.order_by("pk")) == tickets
    invited = Notification.objects.filter(event_type="meeting.invited").values_list(
        "user__username", flat=True
    )
    assert list(invited) == ["community"]
    clock.move_to(MEETS)
    meeting_sign_in(token=meeting.signin_token, phone=world.tree.resident_a.phone)
    with pytest.raises(Refused) as twice:
        meeting_sign_in(token=meeting.signin_token, phone=world.tree.resident_a.phone)
    assert twice.value.code == "already_signed_in"
    meeting_sign_in_by_staff(actor=staff, meeting_id=meeting.pk, user_id=world.worker_a.pk)
    meeting_record(
        actor=staff,
        meeting_id=meeting.pk,
        minutes="<p>议定由物业<strong>两周内</strong>完成楼顶防水。</p><script>alert(1)</script>",
        resolutions=[
            ResolutionSpec(
                "春都华府1号楼楼顶防水维修", world.property_manager.pk, dt.date(2026, 12, 8), Decimal("38000")
            )
        ],
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and meeting.residents_attending == 1
    assert "<script>" not in meeting.minutes and "<strong>两周内</strong>" in meeting.minutes
    project = Project.objects.get()
    assert (project.owner, project.budget, project.status) == (
        world.property_manager,
        Decimal("38000"),
        ProjectStatus.PLANNED,
    )
    with pytest.raises(Refused):
        meeting_record(actor=staff, meeting_id=meeting.pk, minutes="<p>again</p>")
    figures = meeting_figures(
        actor=staff, node=world.tree.community, start=NOW, end=NOW + dt.timedelta(days=30)
    )
    assert (figures.meetings_held, figures.residents_taking_part, figures.matters_raised) == (1, 1, 1)
    assert (figures.matters_resolved, figures.matters_open) == (0, 1)
    project_add_funding(actor=staff, project_id=project.pk, source="物业公共收益", amount=Decimal("38000"))
    project_move(actor=staff, project_id=project.pk, to="under_way")
    project_move(actor=staff, project_id=project.pk, to="done")
    with pytest.raises(Refused):
        project_move(actor=staff, project_id=project.pk, to="under_way")
    figures = meeting_figures(
        actor=staff, node=world.tree.community, start=NOW, end=NOW + dt.timedelta(days=30)
    )
    assert (figures.matters_resolved, figures.matters_open) == (1, 0)


def test_a_stale_sign_in_code_is_refused(world, clock) -> None:
    staff = world.actor(world.community_staff)
    (meeting,) = meeting_create(actor=staff, spec=spec(world))
    old = meeting.signin_token
    meeting_rotate_code(actor=staff, meeting_id=meeting.pk)
    clock.move_to(MEETS)
    with pytest.raises(Refused) as error:
        meeting_sign_in(token=old, phone=world.tree.resident_a.phone)
    assert error.value.code == "stale_code"
    clock.move_to(MEETS + dt.timedelta(hours=4))
    meeting.refresh_from_db()
    with pytest.raises(Refused):
        meeting_sign_in(token=meeting.signin_token, phone=world.tree.resident_a.phone)


def test_a_monthly_building_leaders_meeting_recurs(world) -> None:
    staff = world.actor(world.community_staff)
    meetings = meeting_create(
        actor=staff,
        spec=spec(
            world,
            kind_code="building-leaders",
            title="楼长见面会",
            recurrence="monthly",
            until=dt.date(2027, 3, 31),
        ),
    )
    assert [m.starts_at.month for m in meetings] == [11, 12, 1, 2, 3]
    assert len({m.series_id for m in meetings}) == 1


def test_scope_and_bad_input(world) -> None:
    outsider = world.actor(world.worker_b)
    with pytest.raises(NotFound):
        meeting_create(actor=outsider, spec=spec(world, node_id=world.tree.grid_a.pk))
    with pytest.raises(ValidationFailed) as error:
        meeting_create(
            actor=world.actor(world.community_staff), spec=spec(world, kind_code="nope", place=" ")
        )
    assert set(error.value.extra["fields"]) == {"kind", "place"}
    ticket_b = submit(world.tree, node=world.tree.household_b1)
    worker_a = world.actor(world.worker_a)
    with pytest.raises(NotFound):  # a ticket out of scope cannot be put on the agenda
        meeting_create(
            actor=worker_a,
            spec=spec(
                world, node_id=world.tree.grid_a.pk, agenda=[AgendaSpec("x", ticket_ids=[ticket_b.pk])]
            ),
        )
    assert not Meeting.objects.exists()


def test_cancelled_meetings_leave_the_calendar_and_the_feed_is_private(world, clock) -> None:
    staff = world.actor(world.community_staff)
    invited = {"invite_roles": ["community_staff"], "invite_organization_ids": []}
    (_first,) = meeting_create(actor=staff, spec=spec(world, title="第一次议事", **invited))
    (second,) = meeting_create(actor=staff, spec=spec(world, title="第二次议事", **invited))
    meeting_cancel(actor=staff, meeting_id=second.pk)
    text = ics_feed(actor=staff, host="gongzhi.test", now=NOW)
    assert "第一次议事" in text and "第二次议事" not in text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and all(
        len(line.encode()) <= 75 for line in text.split("\r\n")
    )
    CalendarFeed.objects.create(user=world.community_staff, token="secret-token-1", created_at=NOW)
    response = Client().get("/calendar/secret-token-1.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert Client().get("/calendar/guess.ics").status_code == 404
    outsider_feed = make_user(role=Role.GRID_WORKER, node=world.tree.grid_b)
    assert "第一次议事" not in ics_feed(actor=resolve_actor(outsider_feed), host="x", now=NOW)


@translation.override("en")
def test_people_invited_without_an_account_hear_by_sms_and_those_with_one_in_their_inbox(world) -> None:
    with_account = world.tree.resident_a
    user = make_user("resident-a")
    user.person = with_account
    user.save(update_fields=["person"])
    without_account = world.tree.resident_b
    staff = world.actor(world.community_staff)
    (meeting,) = meeting_create(
        actor=staff,
        spec=spec(
            world,
            invite_roles=[],
            invite_organization_ids=[],
            invite_person_ids=[with_account.pk, without_account.pk],
        ),
    )
    invitations = Notification.objects.filter(event_type="meeting.invited")
    assert sorted((n.channel, n.user.username if n.user else n.phone) for n in invitations) == [
        ("inbox", "resident-a"),
        ("sms", without_account.phone),
    ]
    meeting_create_again = Notification.objects.count()
    meeting_cancel(actor=staff, meeting_id=meeting.pk, note="下雨，改期")
    cancelled = Notification.objects.filter(event_type="meeting.cancelled", channel="sms").get()
    # The SMS says it all, with no link to the staff's page of the meeting.
    assert cancelled.phone == without_account.phone
    assert (cancelled.subject, cancelled.url) == (f"Cancelled: {meeting.title} 下雨，改期", "")
    assert Notification.objects.count() == meeting_create_again + 2
