"""Staff ticket pages: scope per role, every action via POST (CSRF on), errors, intake, map, departments."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.models import Role, User
from gongzhi.accounts.services import api_token_issue
from gongzhi.core.testing import make_user
from gongzhi.tickets.models import Channel, EventAction, Summons, Ticket, TicketPhoto
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_department, make_world, submit
from gongzhi.tickets.workflow import Level, TicketState

NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Shanghai
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world() -> World:
    world = make_world()
    # A department serves the district: its handler reaches the staff web.
    world.department.nodes.add(world.tree.district)
    return world


class Browser:
    """A logged-in client with CSRF checks on, as a real browser would post."""

    def __init__(self, user: User):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        self.client.get("/tickets/", **EN)
        self.token = self.client.cookies["csrftoken"].value

    def get(self, path: str, **extra: Any) -> Any:
        return self.client.get(path, **EN, **extra)

    def post(self, path: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.post(path, data or {}, HTTP_X_CSRFTOKEN=self.token, **EN, **extra)


def act(browser: Browser, ticket: Ticket, action: str, **fields: Any) -> Any:
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return browser.post(f"/tickets/{ticket.number}/{action}/", data)


def refreshed(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def text(response: Any) -> str:
    return response.content.decode()


# --- Scope ----------------------------------------------------------------------------------------


def test_grid_workers_see_only_their_grids_tickets(world: World) -> None:
    mine = submit(world.tree)
    theirs = submit(world.tree, node=world.tree.household_b1)

    page = text(Browser(world.worker_a).get("/tickets/"))

    assert mine.number in page
    assert theirs.number not in page


ACTIONS = ["accept", "start", "resolve", "reject", "merge", "reopen", "comment", "whistle"]


def test_a_ticket_of_another_grid_is_not_found_on_every_page_and_action(world: World) -> None:
    theirs = submit(world.tree, node=world.tree.household_b1)
    browser = Browser(world.worker_a)

    assert browser.get(f"/tickets/{theirs.number}/").status_code == 404
    assert f'href="/tickets/{theirs.number}/"' not in text(browser.get(f"/tickets/?q={theirs.number}"))
    for action in ACTIONS:
        response = act(browser, theirs, action, note="x", reason="x", into=theirs.number)
        assert response.status_code == 404, action
    assert browser.post(f"/tickets/{theirs.number}/whistles/1/confirm/", {"note": "x"}).status_code == 404
    assert refreshed(theirs).state == TicketState.SUBMITTED
    assert refreshed(theirs).version == 1


def test_a_post_without_the_csrf_token_is_refused(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)

    response = browser.client.post(f"/tickets/{ticket.number}/accept/", {})

    assert response.status_code == 403
    assert refreshed(ticket).state == TicketState.SUBMITTED


def test_an_auditor_reads_but_cannot_act(world: World) -> None:
    ticket = submit(world.tree)
    auditor = make_user("auditor", role=Role.AUDITOR, node=world.tree.district)
    browser = Browser(auditor)

    assert ticket.number in text(browser.get("/tickets/"))
    page = browser.get(f"/tickets/{ticket.number}/")
    assert page.status_code == 200
    assert f"/tickets/{ticket.number}/accept/" not in text(page)
    assert "Nothing for you to do" in text(page)
    assert act(browser, ticket, "accept").status_code == 403
    assert act(browser, ticket, "comment", note="看一下").status_code == 403
    assert act(browser, ticket, "whistle", note="x", departments=world.department.pk).status_code == 403
    assert refreshed(ticket).state == TicketState.SUBMITTED
    assert ticket.events.count() == 1


def test_community_staff_see_every_grid_of_their_community(world: World) -> None:
    a = submit(world.tree)
    b = submit(world.tree, node=world.tree.household_b1)

    page = text(Browser(world.community_staff).get("/tickets/"))

    assert a.number in page and b.number in page


# --- List -----------------------------------------------------------------------------------------


def test_the_list_filters_by_state_overdue_category_kind_channel_node_and_words(
    world: World, frozen: Any
) -> None:
    leak = submit(world.tree, description="厨房水管漏水")
    other = submit(world.tree, node=world.tree.household_a2, description="楼道灯不亮了", channel="web")
    handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=other.pk)
    browser = Browser(world.community_staff)

    def numbers(query: str) -> set[str]:
        page = text(browser.get(f"/tickets/?{query}"))
        return {n for n in (leak.number, other.number) if f'href="/tickets/{n}/"' in page}

    assert numbers("state=open") == {leak.number, other.number}
    assert numbers("state=accepted") == {other.number}
    assert numbers("channel=web") == {other.number}
    assert numbers("category=leak&kind=help") == {leak.number, other.number}
    assert numbers("kind=voice") == set()
    assert numbers(f"q={leak.number}") == {leak.number}
    assert numbers("q=灯不亮") == {other.number}
    assert numbers(f"node={world.tree.household_a2.pk}") == {other.number}
    assert numbers("overdue=on") == set()
    frozen.shift(dt.timedelta(hours=2))  # past the 1-hour response deadline of the submitted one
    assert numbers("overdue=on") == {leak.number}
    assert "Overdue" in text(browser.get("/tickets/"))


def test_the_list_says_when_nothing_matches(world: World) -> None:
    browser = Browser(world.worker_a)
    assert "No tickets in your area yet." in text(browser.get("/tickets/"))
    assert "No ticket matches these filters." in text(browser.get("/tickets/?state=closed"))


def test_a_node_outside_the_scope_is_not_found_in_the_list(world: World) -> None:
    assert Browser(world.worker_a).get(f"/tickets/?node={world.tree.grid_b.pk}").status_code == 404


def test_the_list_paginates_and_htmx_gets_the_results_only(world: World, settings: Any) -> None:
    settings.PAGE_SIZE = 2
    for _ in range(3):
        submit(world.tree)
    browser = Browser(world.worker_a)

    first = text(browser.get("/tickets/?state=open"))
    assert "Page 1 of 2" in first
    assert "state=open&amp;page=2" in first
    partial = browser.get("/tickets/?state=open&page=2", HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial)
    assert text(partial).count('class="ticket-number"') == 1


def test_the_list_runs_a_fixed_number_of_queries(world: World, django_assert_num_queries: Any) -> None:
    for i in range(5):
        submit(world.tree, node=world.tree.household_a1 if i % 2 else world.tree.household_a2)
    browser = Browser(world.community_staff)
    browser.get("/tickets/")  # warm the session

    # session, user, role assignments, categories, count, page, addresses, unread inbox (header)
    with django_assert_num_queries(8):
        response = browser.get("/tickets/")
    assert response.status_code == 200
    for _ in range(5):
        submit(world.tree)
    with CaptureQueriesContext(connection) as more:
        browser.get("/tickets/")
    assert len(more) == 8


# --- Detail ---------------------------------------------------------------------------------------


def test_the_detail_masks_the_phone_and_shows_answers_and_timeline(world: World) -> None:
    ticket = submit(world.tree, answers={"floor": "5"}, reporter_name="张秀英")
    page = text(Browser(world.worker_a).get(f"/tickets/{ticket.number}/"))

    assert "138****5678" in page
    assert "13812345678" not in page
    assert "张秀英" in page
    assert "哪一层" in page
    assert "Submitted" in page and "Resident" in page
    for allowed in ("accept", "reject", "merge"):
        assert f"/tickets/{ticket.number}/{allowed}/" in page
    for refused in ("resolve", "reopen", "start"):
        assert f"/tickets/{ticket.number}/{refused}/" not in page


def test_an_anonymous_reporter_is_not_shown(world: World) -> None:
    ticket = submit(world.tree, reporter_name="张秀英", is_anonymous=True)
    page = text(Browser(world.worker_a).get(f"/tickets/{ticket.number}/"))

    assert "Anonymous" in page
    assert "张秀英" not in page
    assert "5678" not in page


def test_text_from_residents_is_escaped(world: World) -> None:
    ticket = submit(world.tree, description="<script>alert(1)</script> 漏水")
    page = text(Browser(world.worker_a).get(f"/tickets/{ticket.number}/"))
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


# --- Actions --------------------------------------------------------------------------------------


def test_accept_then_a_second_click_is_a_clear_conflict(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)

    first = act(browser, ticket, "accept")
    second = act(browser, ticket, "accept")

    assert first.status_code == 302
    assert refreshed(ticket).state == TicketState.ACCEPTED
    assert refreshed(ticket).assignee == world.worker_a
    assert second.status_code == 409
    assert "cannot be" in text(second)
    assert ticket.events.filter(action=EventAction.ACCEPTED).count() == 1


def test_htmx_actions_get_the_ticket_back_in_place(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)

    done = browser.post(f"/tickets/{ticket.number}/accept/", {}, HTTP_HX_REQUEST="true")
    again = browser.post(f"/tickets/{ticket.number}/accept/", {}, HTTP_HX_REQUEST="true")

    assert done.status_code == 200
    assert 'id="ticket-body"' in text(done) and "<html" not in text(done)
    assert "Accepted. The ticket is yours now." in text(done)
    assert again.status_code == 409
    assert 'role="alert"' in text(again)


def test_an_illegal_action_is_a_409_not_a_500(world: World) -> None:
    ticket = submit(world.tree)
    response = act(Browser(world.worker_a), ticket, "resolve", note="修好了")
    assert response.status_code == 409
    assert "cannot be" in text(response)
    assert refreshed(ticket).state == TicketState.SUBMITTED


def test_resolve_needs_a_note_shown_next_to_the_field(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)
    act(browser, ticket, "accept")

    response = act(browser, ticket, "resolve", note="")

    assert response.status_code == 422
    assert re.search(r"field-error[^>]*>Say what was done\.", text(response))
    assert refreshed(ticket).state == TicketState.ACCEPTED


def _jpeg() -> io.BytesIO:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = "work.jpg"
    return buffer


def test_start_and_resolve_with_a_photo(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)
    act(browser, ticket, "accept")
    assert act(browser, ticket, "start", note="上门查看").status_code == 302

    response = browser.post(
        f"/tickets/{ticket.number}/resolve/", {"resolve-note": "换了水管", "resolve-photos": [_jpeg()]}
    )

    assert response.status_code == 302
    ticket = refreshed(ticket)
    assert ticket.state == TicketState.RESOLVED
    assert ticket.resolution_note == "换了水管"
    photo = ticket.photos.get()
    page = text(browser.get(f"/tickets/{ticket.number}/"))
    assert f"/tickets/{ticket.number}/photos/{photo.pk}/" in page
    served = browser.get(f"/tickets/{ticket.number}/photos/{photo.pk}/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"
    assert Browser(world.worker_b).get(f"/tickets/{ticket.number}/photos/{photo.pk}/").status_code == 404


def test_a_non_image_photo_is_refused_next_to_the_field(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)
    act(browser, ticket, "accept")
    fake = io.BytesIO(b"not an image at all")
    fake.name = "x.jpg"

    response = browser.post(
        f"/tickets/{ticket.number}/resolve/", {"resolve-note": "好了", "resolve-photos": [fake]}
    )

    assert response.status_code == 422
    assert refreshed(ticket).state == TicketState.ACCEPTED


def test_reject_needs_a_reason(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)

    refused = act(browser, ticket, "reject", reason="  ")
    done = act(browser, ticket, "reject", reason="不属于社区职责")

    assert refused.status_code == 422
    assert "Give the reason for rejecting the ticket." in text(refused)
    assert done.status_code == 302
    ticket = refreshed(ticket)
    assert (ticket.state, ticket.rejection_reason) == (TicketState.REJECTED, "不属于社区职责")


def test_merge_into_another_ticket_by_its_number(world: World) -> None:
    keep = submit(world.tree, description="楼上卫生间漏水")
    duplicate = submit(world.tree, node=world.tree.household_a2, description="卫生间漏水天花板滴水")
    browser = Browser(world.worker_a)

    page = text(browser.get(f"/tickets/{duplicate.number}/"))
    assert f'name="merge-into" value="{keep.number}"' in page  # offered as a similar open ticket
    response = act(browser, duplicate, "merge", into=keep.number)

    assert response.status_code == 302
    assert refreshed(duplicate).merged_into == keep
    assert act(browser, duplicate, "merge", into=keep.number).status_code == 409


def test_merging_into_a_ticket_outside_the_scope_is_refused_next_to_the_field(world: World) -> None:
    ticket = submit(world.tree)
    theirs = submit(world.tree, node=world.tree.household_b1)
    response = act(Browser(world.worker_a), ticket, "merge", into=theirs.number)
    assert response.status_code == 422
    assert "No ticket with this number in your area." in text(response)
    assert refreshed(ticket).state == TicketState.SUBMITTED


def test_reopen_sends_the_ticket_one_level_up(world: World) -> None:
    ticket = submit(world.tree)
    worker = world.actor(world.worker_a)
    handling.ticket_accept(actor=worker, ticket_id=ticket.pk)
    handling.ticket_resolve(actor=worker, ticket_id=ticket.pk, note="修好了")
    browser = Browser(world.worker_a)

    assert act(browser, ticket, "reopen", reason="").status_code == 422
    assert act(browser, ticket, "reopen", reason="居民说还在漏").status_code == 302

    ticket = refreshed(ticket)
    assert (ticket.state, ticket.level) == (TicketState.REOPENED, Level.COMMUNITY)
    # Now the community's: the grid worker may look but no longer act.
    page = text(browser.get(f"/tickets/{ticket.number}/"))
    assert f"/tickets/{ticket.number}/accept/" not in page
    assert f"/tickets/{ticket.number}/accept/" in text(
        Browser(world.community_staff).get(f"/tickets/{ticket.number}/")
    )


def test_comments_are_internal_or_public(world: World) -> None:
    ticket = submit(world.tree)
    browser = Browser(world.worker_a)

    act(browser, ticket, "comment", note="内部备注")
    act(browser, ticket, "comment", note="已联系物业", is_public="on")
    empty = act(browser, ticket, "comment", note="")

    notes = dict(ticket.events.filter(action=EventAction.COMMENTED).values_list("note", "is_public"))
    assert notes == {"内部备注": False, "已联系物业": True}
    assert empty.status_code == 422
    assert "internal" in text(browser.get(f"/tickets/{ticket.number}/"))


def test_a_whistle_to_a_department_through_to_confirmation(world: World) -> None:
    ticket = submit(world.tree)
    other_department = make_department("住建局", "dept-zj")
    staff = Browser(world.community_staff)
    act(staff, ticket, "accept")

    page = text(staff.get(f"/tickets/{ticket.number}/"))
    # The category's departments come first.
    assert page.index("城管局") < page.index("住建局")
    assert act(staff, ticket, "whistle", note="").status_code == 422
    response = staff.post(
        f"/tickets/{ticket.number}/whistle/",
        {"whistle-note": "占道经营，请城管到场", "whistle-departments": [world.department.pk]},
    )
    assert response.status_code == 302
    summons = Summons.objects.get()
    assert summons.department == world.department
    assert other_department.pk not in Summons.objects.values_list("department", flat=True)

    # The department handler sees the ticket (summoned) and its summons list.
    handler = Browser(world.handler)
    assert handler.get(f"/tickets/{ticket.number}/").status_code == 200
    assert ticket.number in text(handler.get("/tickets/summons/"))
    assert handler.post(f"/tickets/summons/{summons.pk}/act/", {"note": "已清理"}).status_code == 422
    assert handler.post(f"/tickets/summons/{summons.pk}/report-in/", {}).status_code == 302
    assert handler.post(f"/tickets/summons/{summons.pk}/report-in/", {}).status_code == 422  # twice
    assert handler.post(f"/tickets/summons/{summons.pk}/act/", {"note": "已清理占道摊位"}).status_code == 302
    # Another grid's worker cannot touch the summons.
    assert Browser(world.worker_b).post(f"/tickets/summons/{summons.pk}/report-in/", {}).status_code == 404

    page = text(staff.get(f"/tickets/{ticket.number}/"))
    assert "已清理占道摊位" in page
    confirm = staff.post(
        f"/tickets/{ticket.number}/whistles/{summons.whistle_id}/confirm/", {"note": "现场已恢复"}
    )
    assert confirm.status_code == 302
    assert refreshed(ticket).state == TicketState.RESOLVED
    again = staff.post(
        f"/tickets/{ticket.number}/whistles/{summons.whistle_id}/confirm/", {"note": "现场已恢复"}
    )
    assert again.status_code == 422


def _whistled(world: World) -> tuple[Ticket, Summons, Browser, Browser]:
    """A ticket the community summoned 城管局 to, which has reported in."""
    ticket = submit(world.tree)
    staff, handler = Browser(world.community_staff), Browser(world.handler)
    act(staff, ticket, "accept")
    staff.post(
        f"/tickets/{ticket.number}/whistle/",
        {"whistle-note": "占道经营，请城管到场", "whistle-departments": [world.department.pk]},
    )
    summons = Summons.objects.get()
    assert handler.post(f"/tickets/summons/{summons.pk}/report-in/", {}).status_code == 302
    return ticket, summons, staff, handler


def _not_a_photo() -> io.BytesIO:
    fake = io.BytesIO(b"%PDF-1.4 not a picture")
    fake.name = "scan.jpg"
    return fake


def test_a_department_records_its_work_with_a_photo(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, summons, staff, handler = _whistled(world)
    for page in ("/tickets/summons/", f"/tickets/{ticket.number}/"):
        html = text(handler.get(page))
        assert 'enctype="multipart/form-data"' in html and f'id="act-photos-{summons.pk}"' in html

    response = handler.post(
        f"/tickets/summons/{summons.pk}/act/",
        {"note": "已清理占道摊位", "photos": [_jpeg()], "next": "ticket"},
    )

    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.number}/"
    photo = TicketPhoto.objects.get()
    assert photo.event is not None and photo.event.action == EventAction.DEPARTMENT_ACTED
    assert photo.width == 40 and photo.image.name.endswith(".jpg")
    url = f"/tickets/{ticket.number}/photos/{photo.pk}/"
    assert url in text(staff.get(f"/tickets/{ticket.number}/"))
    assert b"".join(handler.get(url).streaming_content)[:2] == b"\xff\xd8"


def test_a_department_s_file_that_is_no_photo_is_refused_and_nothing_recorded(world: World) -> None:
    _ticket, summons, _staff, handler = _whistled(world)

    response = handler.post(
        f"/tickets/summons/{summons.pk}/act/", {"note": "已清理", "photos": [_not_a_photo()]}
    )

    assert response.status_code == 422
    assert "This file is not a photo." in text(response)
    summons.refresh_from_db()
    assert (summons.acted_at, summons.action_note) == (None, "")
    assert not TicketPhoto.objects.exists()


def test_the_summoning_level_confirms_with_a_photo_the_resident_sees(
    world: World, settings: Any, tmp_path: Any, client: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket, summons, staff, handler = _whistled(world)
    handler.post(f"/tickets/summons/{summons.pk}/act/", {"note": "已清理占道摊位"})
    confirm_url = f"/tickets/{ticket.number}/whistles/{summons.whistle_id}/confirm/"
    page = text(staff.get(f"/tickets/{ticket.number}/"))
    assert 'hx-encoding="multipart/form-data"' in page and f'id="confirm-photos-{summons.whistle_id}"' in page

    refused = staff.post(confirm_url, {"note": "现场已恢复", "photos": [_not_a_photo()]})
    assert refused.status_code == 422 and "This file is not a photo." in text(refused)
    assert refreshed(ticket).state == TicketState.IN_PROGRESS and not TicketPhoto.objects.exists()

    assert staff.post(confirm_url, {"note": "现场已恢复", "photos": [_jpeg(), _jpeg()]}).status_code == 302
    ticket = refreshed(ticket)
    assert ticket.state == TicketState.RESOLVED
    photos = list(TicketPhoto.objects.select_related("event"))
    assert [p.event.action for p in photos if p.event] == [EventAction.RESOLVED, EventAction.RESOLVED]
    # The resident sees them as the outcome of the work.
    follow = client.get(f"/t/{ticket.follow_token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for photo in photos:
        assert f"/t/{ticket.follow_token}/photos/{photo.pk}/" in follow


def test_a_department_not_summoned_does_not_see_the_ticket(world: World) -> None:
    ticket = submit(world.tree)
    assert Browser(world.handler).get(f"/tickets/{ticket.number}/").status_code == 404
    assert "Nothing waiting for your department." in text(Browser(world.handler).get("/tickets/summons/"))


# --- Intake ---------------------------------------------------------------------------------------


def test_staff_enter_a_ticket_taken_on_the_doorstep(world: World) -> None:
    browser = Browser(world.worker_a)
    form = text(browser.get(f"/tickets/new/?node={world.tree.household_a1.pk}"))
    key = re.search(r'name="submit_key" value="([0-9a-f]+)"', form)
    assert key and f'value="{world.tree.household_a1.pk}" checked' in form
    data = {
        "node": world.tree.household_a1.pk,
        "channel": Channel.DOORSTEP,
        "category": "leak",
        "description": "卫生间漏水，楼下天花板湿了",
        "reporter_name": "张秀英",
        "reporter_phone": "13812341234",
        "answer_floor": "3",
        "submit_key": key.group(1),
    }

    response = browser.post("/tickets/new/", data)
    again = browser.post("/tickets/new/", data)  # a double click: the same ticket

    ticket = Ticket.objects.get()
    assert response.status_code == again.status_code == 302
    assert response["Location"] == f"/tickets/{ticket.number}/"
    assert (ticket.channel, ticket.entered_by, ticket.answers) == (
        Channel.DOORSTEP,
        world.worker_a,
        {"floor": "3"},
    )


def test_intake_errors_are_shown_next_to_the_fields(world: World) -> None:
    browser = Browser(world.worker_a)
    response = browser.post(
        "/tickets/new/",
        {
            "node": world.tree.household_a1.pk,
            "channel": "phone",
            "category": "leak",
            "description": "漏",
            "reporter_phone": "123",
            "answer_floor": "高",
        },
    )
    page = text(response)
    assert response.status_code == 422
    assert "at least 4 characters" in page
    assert "valid mobile phone" in page
    assert Ticket.objects.count() == 0
    missing = text(browser.post("/tickets/new/", {"channel": "phone", "category": "", "description": ""}))
    assert "Pick the address from the list." in missing


def test_intake_outside_the_scope_is_not_found(world: World) -> None:
    browser = Browser(world.worker_a)
    assert browser.get(f"/tickets/new/?node={world.tree.household_b1.pk}").status_code == 404
    response = browser.post(
        "/tickets/new/",
        {
            "node": world.tree.household_b1.pk,
            "channel": "phone",
            "category": "leak",
            "description": "楼道漏水了",
        },
    )
    assert response.status_code == 404
    assert Ticket.objects.count() == 0


def test_intake_helpers_search_places_questions_and_similar(world: World) -> None:
    existing = submit(world.tree, description="卫生间漏水，天花板滴水")
    browser = Browser(world.worker_a)

    places = text(browser.get("/tickets/new/places/?place=10"))
    assert f'value="{world.tree.household_a1.pk}"' in places
    assert f'value="{world.tree.household_b1.pk}"' not in text(browser.get("/tickets/new/places/?place=201"))
    assert "哪一层" in text(browser.get("/tickets/new/questions/?category=leak"))
    similar = text(
        browser.get(f"/tickets/new/similar/?description=卫生间漏水滴水&node={world.tree.household_a2.pk}")
    )
    assert existing.number in similar
    # Grid B's worker is not shown grid A's tickets.
    assert existing.number not in text(
        Browser(world.worker_b).get(
            f"/tickets/new/similar/?description=卫生间漏水滴水&node={world.tree.household_a2.pk}"
        )
    )


def test_auditors_and_departments_cannot_enter_tickets(world: World) -> None:
    auditor = make_user("auditor", role=Role.AUDITOR, node=world.tree.district)
    assert Browser(auditor).get("/tickets/new/").status_code == 403
    assert Browser(world.handler).get("/tickets/new/").status_code == 403


# --- Map ------------------------------------------------------------------------------------------


def _map_json(page: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_map_draws_boundaries_squares_and_open_tickets(world: World) -> None:
    from decimal import Decimal

    tree = world.tree
    tree.grid_a.boundary = {
        "type": "Polygon",
        "coordinates": [
            [[116.80, 35.55], [116.81, 35.55], [116.81, 35.56], [116.80, 35.56], [116.80, 35.55]]
        ],
    }
    tree.grid_a.save(update_fields=["boundary"])
    type(tree.grid_b).objects.filter(pk=tree.grid_b.pk).update(
        latitude=Decimal("35.551"), longitude=Decimal("116.82")
    )
    type(tree.household_a1).objects.filter(pk=tree.household_a1.pk).update(
        latitude=Decimal("35.555"), longitude=Decimal("116.805")
    )
    ticket = submit(world.tree)
    closed = submit(world.tree)
    handling.ticket_reject(actor=world.actor(world.worker_a), ticket_id=closed.pk, reason="重复")

    page = text(Browser(world.community_staff).get(f"/tickets/map/?node={tree.community.pk}"))

    geo = _map_json(page, "map-geojson")
    names = {f["properties"]["label"] for f in geo["features"]}
    assert names == {"第一网格", "第二网格"}
    points = _map_json(page, "map-points")
    assert [p["name"] for p in points] == [ticket.number]
    assert "vendor/echarts/echarts.min.js" in page
    assert "drawn as a small square" in page
    assert closed.number not in page


def test_the_map_of_another_grid_is_not_found(world: World) -> None:
    browser = Browser(world.worker_a)
    assert browser.get(f"/tickets/map/?node={world.tree.grid_b.pk}").status_code == 404
    assert browser.get(f"/tickets/map/?node={world.tree.grid_a.pk}").status_code == 200
    assert browser.get(f"/tickets/map/?node={world.tree.building_a.pk}").status_code == 404
    assert browser.get("/tickets/map/").status_code == 200


@pytest.mark.django_db
def test_a_department_serving_no_node_still_reaches_its_summonses(client) -> None:
    from gongzhi.accounts.models import Role
    from gongzhi.core.testing import PASSWORD, build_small_tree, make_user
    from gongzhi.territory.models import Organization

    build_small_tree()
    department = Organization.objects.create(code="dept-free", name="住建局", kind="department")
    user = make_user("free-handler", role=Role.DEPARTMENT_HANDLER, organization=department)
    client.login(username=user.username, password=PASSWORD)
    assert client.get("/tickets/summons/").status_code == 200


# --- The text for the public board (三公开) -----------------------------------------------------


def _accepted(world: World) -> Ticket:
    ticket = submit(world.tree, reporter_name="王秀英")
    handling.ticket_accept(actor=world.actor(world.worker_a), ticket_id=ticket.pk)
    return ticket


def test_the_resolve_form_says_the_text_is_public_and_keeps_it(world: World) -> None:
    ticket = _accepted(world)
    browser = Browser(world.worker_a)
    page = text(browser.get(f"/tickets/{ticket.number}/"))
    assert "For the public board (optional)" in page
    assert 'aria-describedby="id_resolve-public_outcome_helptext"' in page
    assert "Everyone can read this on the community&#x27;s public board." in page

    response = act(browser, ticket, "resolve", note="王师傅换了水管", public_outcome="已更换漏水的水管。")
    assert response.status_code == 302
    ticket = refreshed(ticket)
    assert (ticket.state, ticket.resolution_note, ticket.public_outcome) == (
        TicketState.RESOLVED,
        "王师傅换了水管",
        "已更换漏水的水管。",
    )
    assert "On the public board" in text(browser.get(f"/tickets/{ticket.number}/"))


def test_a_text_with_personal_data_is_refused_under_its_field(world: World) -> None:
    ticket = _accepted(world)
    browser = Browser(world.worker_a)
    response = act(
        browser, ticket, "resolve", note="已修好", public_outcome="已为王秀英更换水管，电话13812345678"
    )
    assert response.status_code == 422
    page = text(response)
    assert "The text for the public board contains a phone number, a person&#x27;s name." in page
    assert "已为王秀英更换水管" in page  # nothing the staff typed is lost
    ticket = refreshed(ticket)
    assert (ticket.state, ticket.resolution_note, ticket.public_outcome) == (TicketState.ACCEPTED, "", "")


def test_the_text_is_optional(world: World) -> None:
    ticket = _accepted(world)
    assert act(Browser(world.worker_a), ticket, "resolve", note="已修好").status_code == 302
    assert (refreshed(ticket).state, refreshed(ticket).public_outcome) == (TicketState.RESOLVED, "")


def test_confirming_a_departments_work_takes_the_text_too(world: World) -> None:
    ticket = _accepted(world)
    root = world.actor(world.community_staff)
    handling.ticket_whistle(
        actor=root, ticket_id=ticket.pk, department_ids=[world.department.pk], note="请到场"
    )
    summons = Summons.objects.get()
    handler = world.actor(world.handler)
    handling.summons_report_in(actor=handler, summons_id=summons.pk)
    handling.summons_record_action(actor=handler, summons_id=summons.pk, note="已清理")
    staff = Browser(world.community_staff)
    url = f"/tickets/{ticket.number}/whistles/{summons.whistle_id}/confirm/"
    refused = staff.post(url, {"note": "现场已恢复", "public_outcome": "3单元502已修好"})
    assert refused.status_code == 422
    assert "a door number" in text(refused)
    assert refreshed(ticket).state == TicketState.IN_PROGRESS
    assert (
        staff.post(url, {"note": "现场已恢复", "public_outcome": "城管局已清理占道摊位。"}).status_code == 302
    )
    assert (refreshed(ticket).state, refreshed(ticket).public_outcome) == (
        TicketState.RESOLVED,
        "城管局已清理占道摊位。",
    )


def test_the_api_takes_the_text_and_refuses_personal_data(world: World) -> None:
    ticket = _accepted(world)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=world.worker_a)}")
    url = f"/api/v1/tickets/{ticket.number}/actions/resolve"
    refused = client.post(
        url, {"note": "已修好", "public_outcome": "王师傅已修好"}, content_type="application/json"
    )
    assert refused.status_code == 422
    assert refreshed(ticket).state == TicketState.ACCEPTED
    done = client.post(
        url, {"note": "已修好", "public_outcome": "已更换水管。"}, content_type="application/json"
    )
    assert done.status_code == 200
    assert done.json()["public_outcome"] == "已更换水管。"
