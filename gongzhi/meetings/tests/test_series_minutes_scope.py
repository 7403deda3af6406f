"""Recurring series keep their day of the month and say when they stop; minutes keep their lines and
are corrected with the earlier version kept; sign-in and ratings stay inside the place; every state
change of meetings and projects leaves an audit row; each user's calendar has their invitations."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditEntry
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.testing import make_user
from gongzhi.meetings.models import Meeting, MeetingStatus, MinutesRevision, Project, ProjectStatus
from gongzhi.meetings.selectors import calendar_meetings, ics_feed
from gongzhi.meetings.services import (
    MAX_OCCURRENCES,
    MeetingSpec,
    Refused,
    meeting_cancel,
    meeting_create,
    meeting_minutes_correct,
    meeting_record,
    meeting_sign_in,
    minutes_html,
    minutes_source,
    occurrences,
    project_add_funding,
    project_add_milestone,
    project_move,
    project_rate,
)
from gongzhi.meetings.tests.test_services import MEETS, NOW
from gongzhi.notifications.models import Notification
from gongzhi.people.models import Person

pytestmark = pytest.mark.django_db


def local(*args: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(*args))


def spec(world, **fields) -> MeetingSpec:
    defaults = {
        "node_id": world.tree.community.pk,
        "kind_code": "building-leaders",
        "title": "楼长见面会",
        "starts_at": MEETS,
        "ends_at": MEETS + dt.timedelta(hours=2),
        "place": "奎星楼社区党群服务中心",
        "invite_roles": ["building_leader"],
    }
    defaults.update(fields)
    return MeetingSpec(**defaults)


def audit_rows(target) -> list[tuple[str, object, str]]:
    rows = AuditEntry.objects.filter(
        target_type=target._meta.label_lower, target_id=str(target.pk), field="status"
    )
    return [(r.actor_username, r.changes.get("status"), r.reason) for r in rows.order_by("pk")]


# --- Recurrence ------------------------------------------------------------------------------------


def test_a_monthly_series_keeps_the_31st_and_clamps_only_short_months(world) -> None:
    starts = local(2027, 1, 31, 15, 0)
    times = occurrences(
        spec(
            world,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            recurrence="monthly",
            until=dt.date(2028, 3, 31),
        )
    )
    days = [timezone.localtime(start).date().isoformat() for start, _end in times.times]
    assert days[:6] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30"]
    assert days[-2:] == ["2028-02-29", "2028-03-31"]  # a leap year's February, and the 31st again
    assert all(timezone.localtime(start).hour == 15 for start, _end in times.times)
    assert not times.stopped_at_limit


@settings(max_examples=60, deadline=None)
@given(
    day=st.integers(min_value=1, max_value=31),
    month=st.integers(min_value=1, max_value=12),
    months=st.integers(min_value=1, max_value=30),
)
def test_every_month_gets_the_start_day_or_its_last_day(day: int, month: int, months: int) -> None:
    day = min(day, calendar.monthrange(2027, month)[1])
    starts = local(2027, month, day, 9, 30)
    last = starts.date() + dt.timedelta(days=31 * months)
    result = occurrences(
        MeetingSpec(
            1,
            "x",
            "楼长见面会",
            starts,
            starts + dt.timedelta(hours=1),
            "x",
            recurrence="monthly",
            until=last,
        )
    )
    for index, (start, end) in enumerate(result.times):
        moment = timezone.localtime(start)
        expected_month = (month - 1 + index) % 12 + 1
        assert moment.month == expected_month
        assert moment.day == min(day, calendar.monthrange(moment.year, moment.month)[1])
        assert (moment.hour, moment.minute, end - start) == (9, 30, dt.timedelta(hours=1))
        assert moment.date() <= last


def test_the_invitation_lists_every_date_of_the_series(world) -> None:
    leader = make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.building_a)
    meetings = meeting_create(
        actor=world.actor(world.community_staff),
        spec=spec(world, recurrence="monthly", until=dt.date(2027, 2, 28)),
    )
    assert len(meetings) == 4
    invitation = Notification.objects.get(event_type="meeting.invited", user=leader)
    assert "2026-11-23、2026-12-23、2027-01-23、2027-02-23" in invitation.body
    assert meetings[0].series.until == dt.date(2027, 2, 23)


def test_a_series_that_reaches_its_limit_stops_there_and_says_so(world) -> None:
    make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.building_a)
    weekly = spec(world, recurrence="weekly", until=dt.date(2029, 12, 31))
    assert occurrences(weekly).stopped_at_limit
    with translation.override("en"):
        meetings = meeting_create(actor=world.actor(world.community_staff), spec=weekly)
    assert len(meetings) == MAX_OCCURRENCES == 52
    last = timezone.localtime(meetings[-1].starts_at).date()
    assert last == dt.date(2027, 11, 15) and meetings[0].series.until == last
    body = Notification.objects.get(event_type="meeting.invited").body
    assert body.startswith(
        "A series holds at most 52 meetings: it stops on 2027-11-15."
    )  # first: inboxes cut
    assert "52 times: 2026-11-23、2026-11-30" in body
    assert not occurrences(spec(world, recurrence="weekly", until=dt.date(2027, 11, 15))).stopped_at_limit


# --- Minutes --------------------------------------------------------------------------------------


def test_plain_text_minutes_keep_paragraphs_and_line_breaks_and_stay_sanitized() -> None:
    text = "议定事项：\r\n1. 物业两周内完成防水\r\n2. 楼长监督\r\n\r\n下次会议：12月<script>alert(1)</script>"
    assert minutes_html(text) == (
        "<p>议定事项：<br>\n1. 物业两周内完成防水<br>\n2. 楼长监督</p>\n<p>下次会议：12月</p>"
    )
    assert minutes_html("<p>已有<strong>格式</strong></p><p onclick='x()'>二</p>") == (
        "<p>已有<strong>格式</strong></p><p>二</p>"
    )
    assert minutes_html("温度<18度 & 水压不足") == "<p>温度&lt;18度 &amp; 水压不足</p>"
    assert minutes_html("   \n\n  ") == ""


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet="议定事项楼长物业 12.：", min_size=1, max_size=12), min_size=1, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_minutes_read_back_as_the_text_they_came_from(paragraphs: list[list[str]]) -> None:
    text = "\n\n".join("\n".join(line.strip() or "x" for line in p) for p in paragraphs)
    html = minutes_html(text)
    assert minutes_html(minutes_source(html)) == html


def test_the_convener_corrects_the_minutes_and_the_earlier_version_is_kept(world, clock) -> None:
    staff = world.actor(world.community_staff)
    (meeting,) = meeting_create(actor=staff, spec=spec(world))
    with pytest.raises(Refused):  # nothing to correct before the meeting was held
        meeting_minutes_correct(actor=staff, meeting_id=meeting.pk, minutes="x", note="错字更正")
    meeting_record(actor=staff, meeting_id=meeting.pk, minutes="物业两周内完成防水\n楼长监督")
    first = Meeting.objects.get(pk=meeting.pk).minutes
    assert first == "<p>物业两周内完成防水<br>\n楼长监督</p>"
    other = resolve_actor(make_user("other-staff", role=Role.COMMUNITY_STAFF, node=world.tree.community))
    with pytest.raises(PermissionDenied):
        meeting_minutes_correct(actor=other, meeting_id=meeting.pk, minutes="改过", note="错字更正")
    with pytest.raises(NotFound):
        meeting_minutes_correct(
            actor=world.actor(world.worker_b), meeting_id=meeting.pk, minutes="x", note="x"
        )
    with pytest.raises(ValidationFailed) as refused:
        meeting_minutes_correct(actor=staff, meeting_id=meeting.pk, minutes=minutes_source(first), note=" ")
    assert set(refused.value.extra["fields"]) == {"minutes", "note"}
    assert not MinutesRevision.objects.exists()
    clock.move_to(MEETS + dt.timedelta(days=1))
    revision = meeting_minutes_correct(
        actor=staff, meeting_id=meeting.pk, minutes="物业十日内完成防水\n楼长监督", note="工期记错，应为十日"
    )
    meeting.refresh_from_db()
    assert meeting.minutes == "<p>物业十日内完成防水<br>\n楼长监督</p>"
    assert (revision.minutes, revision.note, revision.corrected_by) == (
        first,
        "工期记错，应为十日",
        world.community_staff,
    )
    entry = AuditEntry.objects.get(target_id=str(meeting.pk), field="minutes")
    assert (entry.actor, entry.reason, entry.changes["revision"]) == (
        world.community_staff,
        "工期记错，应为十日",
        revision.pk,
    )


# --- Sign-in and ratings inside the place ---------------------------------------------------------


def test_sign_in_by_qr_only_for_residents_of_the_meetings_place(world, clock) -> None:
    staff = world.actor(world.community_staff)
    (meeting,) = meeting_create(actor=staff, spec=spec(world, node_id=world.tree.grid_a.pk))
    clock.move_to(MEETS)
    with pytest.raises(Refused) as outside:  # 李建国 lives in the second grid
        meeting_sign_in(token=meeting.signin_token, phone=world.tree.resident_b.phone)
    assert outside.value.code == "outside" and "第一网格" in str(outside.value.message)
    with pytest.raises(Refused) as unknown:
        meeting_sign_in(token=meeting.signin_token, phone="13700000000")
    assert unknown.value.code == "unknown"
    assert not meeting.attendances.exists()
    # Two of the family share 张秀英's phone: each signs in, chosen by name.
    spouse = Person.objects.create(
        name="王建军", phone=world.tree.resident_a.phone, home=world.tree.household_a1
    )
    with pytest.raises(Refused) as choose:
        meeting_sign_in(token=meeting.signin_token, phone=spouse.phone)
    assert choose.value.code == "choose_person"
    with pytest.raises(Refused):  # someone not registered with this phone
        meeting_sign_in(token=meeting.signin_token, phone=spouse.phone, person_id=world.tree.resident_b.pk)
    meeting_sign_in(token=meeting.signin_token, phone=spouse.phone, person_id=spouse.pk)
    meeting_sign_in(token=meeting.signin_token, phone=spouse.phone, person_id=world.tree.resident_a.pk)
    assert sorted(meeting.attendances.values_list("name", flat=True)) == sorted(["王建军", "张秀英"])
    assert Meeting.objects.get(pk=meeting.pk).residents_attending == 2


def test_only_residents_of_the_projects_place_rate_it(world) -> None:
    project = Project.objects.create(
        node=world.tree.grid_a,
        title="健身器材更新",
        owner=world.property_manager,
        deadline=dt.date(2026, 12, 1),
        status=ProjectStatus.DONE,
        created_at=NOW,
    )
    with pytest.raises(Refused) as refused:
        project_rate(project_id=project.pk, satisfied=True, phone=world.tree.resident_b.phone)
    assert refused.value.code == "not_a_resident"
    project_rate(project_id=project.pk, satisfied=True, phone=world.tree.resident_a.phone)
    project.refresh_from_db()
    assert (project.satisfied, project.unsatisfied) == (1, 0)


# --- The audit trail of state changes -------------------------------------------------------------


def test_meeting_and_project_changes_leave_audit_rows_in_order(world, clock) -> None:
    staff = world.actor(world.community_staff)
    (held, cancelled) = meeting_create(
        actor=staff, spec=spec(world, recurrence="weekly", until=(MEETS + dt.timedelta(days=7)).date())
    )
    meeting_cancel(actor=staff, meeting_id=cancelled.pk, note="与街道会议冲突")
    with pytest.raises(Refused):
        meeting_cancel(actor=staff, meeting_id=cancelled.pk)
    from gongzhi.meetings.services import ResolutionSpec

    meeting_record(
        actor=staff,
        meeting_id=held.pk,
        minutes="议定更新健身器材",
        resolutions=[ResolutionSpec("更新健身器材", world.property_manager.pk, dt.date(2026, 12, 20))],
    )
    assert audit_rows(held) == [
        ("community", [None, "scheduled"], ""),
        ("community", ["scheduled", "held"], ""),
    ]
    assert audit_rows(cancelled) == [
        ("community", [None, "scheduled"], ""),
        ("community", ["scheduled", "cancelled"], "与街道会议冲突"),
    ]
    project = Project.objects.get()
    project_move(actor=staff, project_id=project.pk, to="under_way", note="已签合同")
    with pytest.raises(Refused):
        project_move(actor=staff, project_id=project.pk, to="planned")
    project_add_funding(actor=staff, project_id=project.pk, source="社区基金", amount=Decimal("5000"))
    project_add_milestone(actor=staff, project_id=project.pk, title="安装", due=dt.date(2026, 12, 10))
    project_move(actor=staff, project_id=project.pk, to="done")
    assert audit_rows(project) == [
        ("community", [None, "planned"], ""),
        ("community", ["planned", "under_way"], "已签合同"),
        ("community", ["under_way", "done"], ""),
    ]
    fields = AuditEntry.objects.filter(target_id=str(project.pk), target_type="meetings.project")
    assert sorted(fields.exclude(field="status").values_list("field", flat=True)) == ["funding", "milestones"]
    assert Meeting.objects.get(pk=cancelled.pk).status == MeetingStatus.CANCELLED


# --- Every invited user's calendar ----------------------------------------------------------------


def test_the_calendar_holds_the_meetings_a_user_is_invited_to(world) -> None:
    staff = world.actor(world.community_staff)
    resident_user = make_user("zhang")  # a resident with an account and no staff role
    resident_user.person = world.tree.resident_a
    resident_user.save()
    leader = make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.building_a)
    pm_staff = make_user("pm-staff", role=Role.PARTNER_STAFF, organization=world.property_manager)
    stranger = make_user("stranger")
    (by_person,) = meeting_create(
        actor=staff,
        spec=spec(
            world, title="居民议事：停车", invite_roles=[], invite_person_ids=[world.tree.resident_a.pk]
        ),
    )
    (by_role,) = meeting_create(actor=staff, spec=spec(world, title="楼长见面会"))
    (by_organization,) = meeting_create(
        actor=staff,
        spec=spec(
            world,
            title="四位一体联席会",
            invite_roles=[],
            invite_organization_ids=[world.property_manager.pk],
        ),
    )
    (other_grid,) = meeting_create(
        actor=staff, spec=spec(world, node_id=world.tree.grid_b.pk, title="第二网格楼长会")
    )

    def titles(user) -> set[str]:
        return set(calendar_meetings(actor=resolve_actor(user), now=NOW).values_list("title", flat=True))

    assert titles(resident_user) == {by_person.title}
    assert titles(leader) == {by_role.title}  # the second grid's leaders' meeting does not reach building A
    assert titles(pm_staff) >= {by_organization.title}
    assert titles(stranger) == set()
    assert other_grid.title in titles(world.community_staff)
    feed = ics_feed(actor=resolve_actor(resident_user), host="gongzhi.test", now=NOW)
    assert "居民议事：停车" in feed and "：楼长见面会" not in feed


def test_the_migration_gives_old_plain_minutes_their_lines_and_can_run_twice(world) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("gongzhi.meetings.migrations.0005_minutes_keep_line_breaks")
    staff = world.actor(world.community_staff)
    plain, html, one_line = meeting_create(
        actor=staff, spec=spec(world, recurrence="weekly", until=dt.date(2026, 12, 7))
    )
    Meeting.objects.filter(pk=plain.pk).update(minutes="一、漏水\n物业修好\n\n二、停车 &lt;10个")
    Meeting.objects.filter(pk=html.pk).update(minutes="<p>已有</p>\n<p>格式</p>")
    Meeting.objects.filter(pk=one_line.pk).update(minutes="只有一行")
    for _run in range(2):
        migration.mark_lines(apps, None)
        assert (
            Meeting.objects.get(pk=plain.pk).minutes
            == "<p>一、漏水<br>\n物业修好</p>\n<p>二、停车 &lt;10个</p>"
        )
    assert Meeting.objects.get(pk=html.pk).minutes == "<p>已有</p>\n<p>格式</p>"
    assert Meeting.objects.get(pk=one_line.pk).minutes == "只有一行"
