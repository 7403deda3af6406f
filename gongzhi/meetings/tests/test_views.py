"""The meeting and project pages: convene from tickets, the QR sign-in, minutes → projects, the public list."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from gongzhi.accounts.models import Role
from gongzhi.core.personal import mask_phone
from gongzhi.core.testing import PASSWORD, make_user
from gongzhi.meetings.models import (
    Attendance,
    CalendarFeed,
    Meeting,
    MeetingStatus,
    Project,
    ProjectPhoto,
    ProjectRating,
    ProjectStatus,
)
from gongzhi.meetings.services import MeetingSpec, meeting_create
from gongzhi.notifications.models import Notification
from gongzhi.territory.models import Organization
from gongzhi.tickets.tests.factories import make_world, submit

NOW = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # Friday 09:00 in Shanghai
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    cache.clear()  # the public list is cached; rate limits count in the cache
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world():
    world = make_world()
    world.property_manager = Organization.objects.create(
        code="pm-1", name="春都物业", kind="property_manager"
    )
    world.property_manager.nodes.add(world.tree.community)
    world.owners_committee = Organization.objects.create(
        code="oc-1", name="春都华府业委会", kind="owners_committee"
    )
    world.owners_committee.nodes.add(world.tree.community)
    return world


def login(user) -> Client:
    client = Client(**EN)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def convene(world, **fields) -> Meeting:
    spec = {
        "node_id": world.tree.community.pk,
        "kind_code": "four-in-one",
        "title": "春都华府四位一体联席会",
        "starts_at": NOW,
        "ends_at": NOW + dt.timedelta(hours=2),
        "place": "党群服务中心",
    }
    spec.update(fields)
    (meeting,) = meeting_create(actor=world.actor(world.community_staff), spec=MeetingSpec(**spec))
    return meeting


def last_code(phone: str) -> str:
    message = Notification.objects.filter(
        phone__in=[phone, mask_phone(phone)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def form_data(world, tickets: str = "", **fields) -> dict[str, object]:
    data: dict[str, object] = {
        "node": world.tree.community.pk,
        "kind": "four-in-one",
        "title": "漏水联席会",
        "day": "2026-11-24",
        "starts": "15:00",
        "ends": "17:00",
        "place": "奎星楼社区党群服务中心",
        "invite_roles": ["community_staff"],
        "organizations": [str(world.property_manager.pk), str(world.owners_committee.pk)],
        "agenda-TOTAL_FORMS": "2",
        "agenda-INITIAL_FORMS": "0",
        "agenda-0-title": "楼顶漏水",
        "agenda-0-tickets": tickets,
        "agenda-1-title": "",
    }
    data.update(fields)
    return data


# --- Convene ----------------------------------------------------------------------------------------


def test_convening_from_three_tickets_puts_them_on_the_agenda_and_invites(world) -> None:
    tickets = [submit(world.tree, submit_key=f"k{i}") for i in range(3)]
    client = login(world.community_staff)
    ids = ",".join(str(t.pk) for t in tickets)
    page = client.get(f"/meetings/new/?node={world.tree.community.pk}&tickets={ids}")
    assert page.status_code == 200
    text = page.content.decode()
    assert all(t.number in text for t in tickets) and "3 tickets are on the first agenda item" in text
    numbers = " ".join(t.number for t in tickets)
    response = client.post(
        f"/meetings/new/?node={world.tree.community.pk}",
        form_data(world, numbers, people=[str(world.tree.resident_a.pk)]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get()
    assert response["Location"] == f"/meetings/{meeting.pk}/"
    assert (meeting.kind.code, meeting.place) == ("four-in-one", "奎星楼社区党群服务中心")
    assert list(meeting.agenda.get().tickets.order_by("pk")) == tickets
    assert set(meeting.invitees.values_list("role", "organization_id", "person_id")) == {
        ("community_staff", None, None),
        ("", world.property_manager.pk, None),
        ("", world.owners_committee.pk, None),
        ("", None, world.tree.resident_a.pk),
    }
    assert Notification.objects.filter(event_type="meeting.invited").exists()


def test_a_wrong_ticket_number_or_bad_times_change_nothing(world) -> None:
    client = login(world.community_staff)
    response = client.post("/meetings/new/", form_data(world, "999999"))
    assert response.status_code == 422
    assert "No ticket with this number in your area" in response.content.decode()
    response = client.post("/meetings/new/", form_data(world, ends="14:00"))
    assert response.status_code == 422
    assert "The meeting must end after it starts." in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_monthly_meeting_recurs_from_the_form(world) -> None:
    client = login(world.community_staff)
    data = form_data(world, kind="building-leaders", recurrence="monthly", until="2027-02-28")
    assert client.post("/meetings/new/", data).status_code == 302
    assert Meeting.objects.count() == 4


def test_an_outsider_cannot_convene_or_see_a_meeting(world) -> None:
    meeting = convene(world)
    outsider = login(world.worker_b)
    assert outsider.get(f"/meetings/new/?node={world.tree.community.pk}").status_code == 404
    assert outsider.get(f"/meetings/{meeting.pk}/").status_code == 404
    assert outsider.post(f"/meetings/{meeting.pk}/new-code/").status_code == 404
    meeting.refresh_from_db()
    token = meeting.signin_token
    assert Meeting.objects.get().signin_token == token


def test_ticket_and_people_search_stay_in_scope(world) -> None:
    ticket = submit(world.tree)
    client = login(world.community_staff)
    found = client.get(f"/meetings/new/tickets/?node={world.tree.community.pk}&q={ticket.number}")
    assert ticket.number in found.content.decode()
    people = client.get(f"/meetings/people/?node={world.tree.community.pk}&q=张秀英")
    assert "张秀英" in people.content.decode() and "13812341234" not in people.content.decode()
    worker_b = login(world.worker_b)
    hidden = worker_b.get(f"/meetings/new/tickets/?node={world.tree.grid_b.pk}&q={ticket.number}")
    assert ticket.number not in hidden.content.decode()


def test_the_list_shows_upcoming_and_past_by_kind(world) -> None:
    convene(
        world,
        title="下周联席会",
        starts_at=NOW + dt.timedelta(days=3),
        ends_at=NOW + dt.timedelta(days=3, hours=2),
    )
    convene(
        world,
        title="上月楼长会",
        kind_code="building-leaders",
        starts_at=NOW - dt.timedelta(days=30),
        ends_at=NOW - dt.timedelta(days=30) + dt.timedelta(hours=1),
    )
    client = login(world.community_staff)
    text = client.get(f"/meetings/?node={world.tree.community.pk}").content.decode()
    assert text.index("下周联席会") < text.index("上月楼长会")
    only = client.get(f"/meetings/?node={world.tree.community.pk}&kind=building-leaders").content.decode()
    assert "上月楼长会" in only and "下周联席会" not in only


# --- The meeting page -------------------------------------------------------------------------------


def test_the_meeting_page_shows_a_qr_code_that_a_new_code_makes_stale(world) -> None:
    meeting = convene(world)
    client = login(world.community_staff)
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "<svg" in page and f"/m/{meeting.signin_token}/" in page
    old = meeting.signin_token
    assert client.post(f"/meetings/{meeting.pk}/new-code/").status_code == 302
    meeting.refresh_from_db()
    assert meeting.signin_token != old
    stale = Client(**EN).get(f"/m/{old}/")
    assert stale.status_code == 410
    assert "This sign-in code is no longer valid" in stale.content.decode()


def test_staff_sign_in_minutes_and_resolutions_become_projects(world) -> None:
    meeting = convene(world)
    client = login(world.community_staff)
    signed = client.post(f"/meetings/{meeting.pk}/sign-in/", {"person": world.tree.resident_b.pk})
    assert signed.status_code == 302
    again = client.post(f"/meetings/{meeting.pk}/sign-in/", {"person": world.tree.resident_b.pk}, follow=True)
    assert "has already signed in" in again.content.decode()
    assert Attendance.objects.filter(meeting=meeting).count() == 1
    data = {
        "minutes": "<p>议定：<strong>两周内</strong>完成防水。</p><script>alert(1)</script>",
        "resolution-TOTAL_FORMS": "2",
        "resolution-INITIAL_FORMS": "0",
        "resolution-0-text": "1号楼楼顶防水维修",
        "resolution-0-owner": str(world.property_manager.pk),
        "resolution-0-deadline": "2026-12-08",
        "resolution-0-budget": "38000",
        "resolution-1-text": "",
    }
    bad = client.post(f"/meetings/{meeting.pk}/record/", {**data, "resolution-0-owner": ""})
    assert bad.status_code == 422 and not Project.objects.exists()
    assert client.post(f"/meetings/{meeting.pk}/record/", data).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and "<script>" not in meeting.minutes
    project = Project.objects.get()
    assert (project.owner, project.budget, project.deadline) == (
        world.property_manager,
        Decimal("38000"),
        dt.date(2026, 12, 8),
    )
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert f"/meetings/projects/{project.pk}/" in page and "<strong>两周内</strong>" in page


def test_cancel(world) -> None:
    meeting = convene(world)
    client = login(world.community_staff)
    assert client.post(f"/meetings/{meeting.pk}/cancel/").status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED


# --- The resident's sign-in -----------------------------------------------------------------------


def test_a_resident_signs_in_by_qr_after_verifying_the_phone(world) -> None:
    meeting = convene(world)
    phone = world.tree.resident_a.phone
    resident = Client(**EN)
    page = resident.get(f"/m/{meeting.signin_token}/")
    assert page.status_code == 200 and meeting.title in page.content.decode()
    assert resident.post(f"/m/{meeting.signin_token}/", {"action": "send", "phone": phone}).status_code == 200
    wrong = resident.post(f"/m/{meeting.signin_token}/", {"action": "verify", "code": "000000"})
    assert wrong.status_code == 422 and not Attendance.objects.exists()
    done = resident.post(f"/m/{meeting.signin_token}/", {"action": "verify", "code": last_code(phone)})
    assert done.status_code == 200
    assert "You are signed in" in done.content.decode() and meeting.title in done.content.decode()
    again = resident.post(f"/m/{meeting.signin_token}/", {"action": "sign_in"})
    assert "You have already signed in" in again.content.decode()
    assert Attendance.objects.filter(meeting=meeting, person=world.tree.resident_a).count() == 1
    meeting.refresh_from_db()
    assert meeting.residents_attending == 1


def test_an_unregistered_phone_is_told_to_ask_the_staff(world) -> None:
    meeting = convene(world)
    resident = Client(**EN)
    resident.post(f"/m/{meeting.signin_token}/", {"action": "send", "phone": "13900001111"})
    refused = resident.post(
        f"/m/{meeting.signin_token}/", {"action": "verify", "code": last_code("13900001111")}
    )
    assert refused.status_code == 409
    assert "ask the staff at the meeting to sign you in" in refused.content.decode()
    assert not Attendance.objects.exists()


# --- Figures and calendar -------------------------------------------------------------------------


def test_figures_of_a_month(world) -> None:
    meeting = convene(world)
    staff = login(world.community_staff)
    staff.post(f"/meetings/{meeting.pk}/sign-in/", {"person": world.tree.resident_a.pk})
    staff.post(
        f"/meetings/{meeting.pk}/record/",
        {"minutes": "<p>ok</p>", "resolution-TOTAL_FORMS": "0", "resolution-INITIAL_FORMS": "0"},
    )
    page = staff.get(f"/meetings/figures/?node={world.tree.community.pk}&month=2026-11")
    assert page.status_code == 200
    figures = page.context["figures"]
    assert (figures.meetings_held, figures.residents_taking_part) == (1, 1)
    assert figures.held_by_kind == {meeting.kind.name: 1}
    empty = staff.get(f"/meetings/figures/?node={world.tree.community.pk}&month=2026-10").context["figures"]
    assert empty.meetings_held == 0


def test_my_calendar_makes_an_address_and_a_new_one_revokes_it(world) -> None:
    convene(world)
    client = login(world.community_staff)
    page = client.get("/meetings/calendar/")
    feed = CalendarFeed.objects.get(user=world.community_staff)
    assert f"/calendar/{feed.token}.ics" in page.content.decode()
    assert Client().get(f"/calendar/{feed.token}.ics").status_code == 200
    old = feed.token
    assert client.post("/meetings/calendar/").status_code == 302
    assert Client().get(f"/calendar/{old}.ics").status_code == 404
    feed.refresh_from_db()
    assert "春都华府四位一体联席会" in Client().get(f"/calendar/{feed.token}.ics").content.decode()


# --- Projects ---------------------------------------------------------------------------------------


def _photo_upload(name: str = "before.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 80, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def project(world):
    meeting = convene(world)
    client = login(world.community_staff)
    client.post(
        f"/meetings/{meeting.pk}/record/",
        {
            "minutes": "<p>议定</p>",
            "resolution-TOTAL_FORMS": "1",
            "resolution-INITIAL_FORMS": "0",
            "resolution-0-text": "更新小区健身器材",
            "resolution-0-owner": str(world.property_manager.pk),
            "resolution-0-deadline": "2026-12-31",
            "resolution-0-budget": "50000",
        },
    )
    return Project.objects.get()


def test_the_project_page_moves_adds_milestones_funding_and_photos(
    world, project, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client = login(world.community_staff)
    base = f"/meetings/projects/{project.pk}"
    assert client.post(f"{base}/milestone/", {"title": "招标", "due": "2026-12-01"}).status_code == 302
    milestone = project.milestones.get()
    assert (
        client.post(f"{base}/milestone-done/", {"milestone": milestone.pk, "on": "2026-11-25"}).status_code
        == 302
    )
    assert client.post(f"{base}/funding/", {"source": "共建单位捐助", "amount": "30000"}).status_code == 302
    bad = client.post(f"{base}/funding/", {"source": "x", "amount": "-5"})
    assert bad.status_code == 422 and project.funding.count() == 1
    assert client.post(f"{base}/photo/", {"stage": "before", "image": _photo_upload()}).status_code == 302
    fake = client.post(f"{base}/photo/", {"stage": "after", "image": _photo_upload_fake()})
    assert fake.status_code == 422 and ProjectPhoto.objects.count() == 1
    assert client.post(f"{base}/move/", {"to": "under_way"}).status_code == 302
    refused = client.post(f"{base}/move/", {"to": "planned"}, follow=True)
    assert "cannot become" in refused.content.decode()
    page = client.get(f"{base}/").content.decode()
    assert "30,000.00" in page and "20,000.00" in page  # funded and still missing
    milestone.refresh_from_db()
    assert milestone.done_at == dt.date(2026, 11, 25)
    assert login(world.worker_b).post(f"{base}/move/", {"to": "done"}).status_code == 404


def _photo_upload_fake():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("after.jpg", b"not an image at all", content_type="image/jpeg")


def test_the_public_list_shows_projects_without_personal_data_and_residents_rate_once(
    world, project, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    staff = login(world.community_staff)
    world.community_staff.first_name = "李社区"
    world.community_staff.save()
    base = f"/meetings/projects/{project.pk}"
    staff.post(f"{base}/funding/", {"source": "共建单位捐助", "amount": "30000"})
    staff.post(f"{base}/photo/", {"stage": "after", "image": _photo_upload("after.png")})
    staff.post(f"{base}/move/", {"to": "under_way"})
    staff.post(f"{base}/move/", {"to": "done"})
    code = world.tree.community.code
    public = Client(**EN).get(f"/projects/{code}/")
    assert public.status_code == 200 and "max-age=300" in public["Cache-Control"]
    text = public.content.decode()
    assert "更新小区健身器材" in text and "春都物业" in text and "30,000.00" in text
    assert "李社区" not in text and "community" not in re.findall(r">([^<]+)<", text)
    photo = ProjectPhoto.objects.get()
    assert Client().get(f"/projects/{code}/photos/{photo.pk}/").status_code == 200
    assert Client().get("/projects/nowhere/").status_code == 404
    resident = Client(**EN)
    rate = f"/projects/{code}/{project.pk}/rate/"
    phone = "13812341234"
    resident.post(rate, {"action": "send", "phone": phone})
    resident.post(rate, {"action": "verify", "code": last_code(phone)})
    assert resident.post(rate, {"action": "satisfied"}).status_code == 200
    twice = resident.post(rate, {"action": "unsatisfied"})
    assert twice.status_code == 409
    project.refresh_from_db()
    assert (project.satisfied, project.unsatisfied) == (1, 0)
    assert ProjectRating.objects.count() == 1
    assert project.status == ProjectStatus.DONE


def test_a_project_not_done_cannot_be_rated(world, project) -> None:
    response = Client(**EN).get(f"/projects/{world.tree.community.code}/{project.pk}/rate/")
    assert response.status_code == 404


def test_building_leaders_see_but_cannot_convene(world) -> None:
    leader = make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.building_a)
    client = login(leader)
    assert client.get(f"/meetings/?node={world.tree.building_a.pk}").status_code == 200
    assert client.get(f"/meetings/new/?node={world.tree.building_a.pk}").status_code == 403


def test_the_public_list_is_cached_and_shared(world, project, django_assert_num_queries) -> None:
    code = world.tree.community.code
    first = Client(**EN).get(f"/projects/{code}/")
    assert "Cookie" not in first.get("Vary", "") and not first.cookies
    with django_assert_num_queries(0):
        again = Client(**EN).get(f"/projects/{code}/")
    assert again.content == first.content


def test_an_agenda_item_takes_up_a_surveys_results(world) -> None:
    from gongzhi.surveys.services import QuestionSpec, survey_create

    survey = survey_create(
        actor=world.actor(world.community_staff),
        node_id=world.tree.community.pk,
        title="集中供暖意向调查",
        respondent="household",
        opens_at=NOW - dt.timedelta(days=30),
        closes_at=NOW - dt.timedelta(days=1),
        questions=[QuestionSpec("single", "是否赞成接入集中供暖？", ["赞成", "不赞成"])],
    )
    client = login(world.community_staff)
    data = form_data(world, **{"agenda-0-survey": str(survey.pk)})
    assert client.post("/meetings/new/", data).status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.agenda.get(order=1).survey == survey
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "集中供暖意向调查" in page and "是否赞成接入集中供暖？" in page


# --- A project that did not come from a meeting ----------------------------------------------------


def project_post(world, **fields) -> dict[str, object]:
    data: dict[str, object] = {
        "node": world.tree.community.pk,
        "title": "老旧小区楼道照明改造",
        "description": "东苑小区3号楼楼道换装声控灯。",
        "owner": str(world.property_manager.pk),
        "deadline": "2027-03-31",
        "budget": "48000",
        "is_public": "on",
        "funding-TOTAL_FORMS": "3",
        "funding-INITIAL_FORMS": "0",
        "funding-0-source": "街道补贴",
        "funding-0-amount": "30000",
        "funding-1-source": "共建单位捐助",
        "funding-1-amount": "18000",
        "funding-2-source": "",
        "funding-2-amount": "",
        "milestone-TOTAL_FORMS": "3",
        "milestone-INITIAL_FORMS": "0",
        "milestone-0-title": "居民意见征集",
        "milestone-0-due": "2026-12-15",
        "milestone-1-title": "",
        "milestone-1-due": "",
        "milestone-2-title": "施工完成",
        "milestone-2-due": "2027-03-20",
    }
    data.update(fields)
    return data


def test_staff_start_a_project_with_funding_and_milestones(world) -> None:
    client = login(world.community_staff)
    page = client.get(f"/meetings/projects/new/?node={world.tree.community.pk}")
    assert page.status_code == 200 and "春都物业" in page.content.decode()
    response = client.post(f"/meetings/projects/new/?node={world.tree.community.pk}", project_post(world))
    project = Project.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/meetings/projects/{project.pk}/"
    assert (project.node, project.owner, project.budget, project.is_public) == (
        world.tree.community,
        world.property_manager,
        Decimal("48000"),
        True,
    )
    assert sorted(project.funding.values_list("source", "amount")) == [
        ("共建单位捐助", Decimal("18000.00")),
        ("街道补贴", Decimal("30000.00")),
    ]
    assert list(project.milestones.values_list("order", "title")) == [(1, "居民意见征集"), (2, "施工完成")]
    assert not hasattr(project, "resolution") or project.resolution is None
    from gongzhi.audit.models import AuditEntry

    entry = AuditEntry.objects.get(target_type="meetings.project", target_id=str(project.pk))
    assert entry.changes["status"] == [None, "planned"] and entry.actor == world.community_staff
    listing = client.get(f"/meetings/projects/?node={world.tree.community.pk}").content.decode()
    assert f'href="/meetings/projects/new/?node={world.tree.community.pk}"' in listing


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Write a title of 2 to 200 characters."),
        ({"owner": ""}, "Choose the organization responsible for the project."),
        ({"deadline": ""}, "Set a deadline."),
        ({"deadline": "2026-11-19"}, "The deadline cannot be in the past."),
        ({"budget": "-1"}, "The budget cannot be negative."),
        ({"funding-2-source": "居民自筹"}, "Name the source and a positive amount."),
        ({"funding-2-amount": "500"}, "Name the source and a positive amount."),
        ({"milestone-1-due": "2027-01-10"}, "Name the milestone."),
        ({"milestone-2-due": "2027-04-30"}, "A milestone cannot be due after the project&#x27;s deadline."),
    ],
)
def test_a_project_with_bad_input_is_refused_with_a_clear_message(world, fields, message) -> None:
    client = login(world.community_staff)
    response = client.post(
        f"/meetings/projects/new/?node={world.tree.community.pk}", project_post(world, **fields)
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert "Please correct the marked fields." in response.content.decode()
    assert not Project.objects.exists()


def test_a_project_owner_must_serve_the_place(world) -> None:
    elsewhere = Organization.objects.create(code="pm-9", name="别处物业", kind="property_manager")
    client = login(world.community_staff)
    response = client.post(
        f"/meetings/projects/new/?node={world.tree.community.pk}",
        project_post(world, owner=str(elsewhere.pk)),
    )
    assert response.status_code == 422 and not Project.objects.exists()


def test_a_project_outside_the_staffs_area_is_not_found_and_nothing_is_made(world) -> None:
    client = login(world.worker_a)  # the first grid only
    outside = f"/meetings/projects/new/?node={world.tree.grid_b.pk}"
    assert client.get(outside).status_code == 404
    response = client.post(outside, project_post(world, node=world.tree.grid_b.pk))
    assert response.status_code == 404 and not Project.objects.exists()
    leader = login(make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.building_a))
    assert leader.get(f"/meetings/projects/new/?node={world.tree.building_a.pk}").status_code == 403
    assert Client().get("/meetings/projects/new/").status_code == 302  # to the login page


# --- Minutes: plain text, corrections ------------------------------------------------------------


def test_plain_text_minutes_show_their_lines_and_the_convener_corrects_them(world) -> None:
    meeting = convene(world)
    client = login(world.community_staff)
    client.post(
        f"/meetings/{meeting.pk}/record/",
        {
            "minutes": "一、漏水\n物业两周内修好\n\n二、停车",
            "resolution-TOTAL_FORMS": "0",
            "resolution-INITIAL_FORMS": "0",
        },
    )
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "<p>一、漏水<br>\n物业两周内修好</p>\n<p>二、停车</p>" in page
    assert "Correct the minutes" in page
    refused = client.post(
        f"/meetings/{meeting.pk}/minutes/", {"minutes": "一、漏水\n物业十日内修好", "note": ""}
    )
    assert refused.status_code == 422 and "This field is required." in refused.content.decode()
    done = client.post(
        f"/meetings/{meeting.pk}/minutes/",
        {"minutes": "一、漏水\n物业十日内修好\n\n二、停车", "note": "工期记错"},
    )
    assert done.status_code == 302
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "物业十日内修好" in page and "工期记错" in page and "The minutes before this correction" in page
    assert "物业两周内修好" in page  # the earlier version, kept
    other = login(make_user("other", role=Role.COMMUNITY_STAFF, node=world.tree.community))
    assert "Correct the minutes" not in other.get(f"/meetings/{meeting.pk}/").content.decode()
    assert (
        other.post(f"/meetings/{meeting.pk}/minutes/", {"minutes": "x y z", "note": "改一下"}).status_code
        == 403
    )
    assert (
        login(world.worker_b)
        .post(f"/meetings/{meeting.pk}/minutes/", {"minutes": "x", "note": "xxxx"})
        .status_code
        == 404
    )


def test_cancelling_tells_the_invitees_why(world) -> None:
    meeting = convene(world, invite_roles=["grid_worker"])
    client = login(world.community_staff)
    client.post(f"/meetings/{meeting.pk}/cancel/", {"note": "台风预警，改期另行通知"})
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.CANCELLED
    told = Notification.objects.filter(event_type="meeting.cancelled")
    assert told.count() == 2 and {n.body for n in told} == {"台风预警，改期另行通知"}


# --- Sign-in: shared phones, other places -------------------------------------------------------


def _verified(client: Client, meeting: Meeting, phone: str):
    client.post(f"/m/{meeting.signin_token}/", {"action": "send", "phone": phone})
    return client.post(f"/m/{meeting.signin_token}/", {"action": "verify", "code": last_code(phone)})


def test_family_members_sharing_a_phone_each_sign_in_by_name(world) -> None:
    from gongzhi.people.models import Person

    meeting = convene(world)
    spouse = Person.objects.create(
        name="王建军", phone=world.tree.resident_a.phone, home=world.tree.household_a1
    )
    resident = Client(**EN)
    choose = _verified(resident, meeting, spouse.phone)
    page = choose.content.decode()
    assert choose.status_code == 200 and "Who is signing in?" in page
    assert "王*军" in page and "张*英" in page and not Attendance.objects.exists()
    nobody = resident.post(f"/m/{meeting.signin_token}/", {"action": "sign_in", "choosing": "1"})
    assert nobody.status_code == 422 and "Choose your name." in nobody.content.decode()
    signed = resident.post(
        f"/m/{meeting.signin_token}/", {"action": "sign_in", "choosing": "1", "person": spouse.pk}
    )
    assert (
        "You are signed in" in signed.content.decode() and "Sign in another person" in signed.content.decode()
    )
    resident.post(
        f"/m/{meeting.signin_token}/",
        {"action": "sign_in", "choosing": "1", "person": world.tree.resident_a.pk},
    )
    assert set(Attendance.objects.values_list("person_id", flat=True)) == {
        spouse.pk,
        world.tree.resident_a.pk,
    }


def test_a_resident_of_another_place_is_told_to_ask_the_staff(world) -> None:
    meeting = convene(world, node_id=world.tree.grid_a.pk)
    refused = _verified(Client(**EN), meeting, world.tree.resident_b.phone)
    assert refused.status_code == 409
    assert "This meeting is for the residents of 第一网格" in refused.content.decode()
    assert not Attendance.objects.exists()


def test_a_resident_of_another_place_cannot_rate_a_project(world, project) -> None:
    project.node = world.tree.grid_a
    project.status = ProjectStatus.DONE
    project.save()
    resident = Client(**EN)
    rate = f"/projects/{world.tree.community.code}/{project.pk}/rate/"
    phone = world.tree.resident_b.phone  # lives in the second grid
    resident.post(rate, {"action": "send", "phone": phone})
    resident.post(rate, {"action": "verify", "code": last_code(phone)})
    refused = resident.post(rate, {"action": "satisfied"})
    assert (
        refused.status_code == 409
        and "Only the residents of 第一网格 can rate this project" in refused.content.decode()
    )
    project.refresh_from_db()
    assert (project.satisfied, ProjectRating.objects.count()) == (0, 0)


# --- Every account's calendar --------------------------------------------------------------------


def test_a_resident_with_an_account_gets_a_calendar_of_their_invitations(world) -> None:
    resident_user = make_user("zhang")  # no staff role
    resident_user.person = world.tree.resident_a
    resident_user.save()
    convene(world, title="春都华府停车议事会", invite_person_ids=[world.tree.resident_a.pk])
    convene(world, title="网格员例会", invite_roles=["grid_worker"])
    client = login(resident_user)
    assert client.get("/meetings/").status_code == 403  # still no staff pages
    page = client.get("/meetings/calendar/")
    text = page.content.decode()
    assert page.status_code == 200 and "The meetings you are invited to" in text
    assert "春都华府停车议事会" in text and "网格员例会" not in text
    feed = CalendarFeed.objects.get(user=resident_user)
    body = Client().get(f"/calendar/{feed.token}.ics").content.decode()
    assert "春都华府停车议事会" in body and "网格员例会" not in body
    assert Client().get("/meetings/calendar/").status_code == 302
