"""Issue 4's acceptance story as one continuous run, in real browsers, with no shortcut through a service.

The resident, on a 375-px phone, opens the doorplate address of her building, sends a ticket with a
photo and a verified phone, and follows it; the grid worker accepts and resolves THAT ticket with a
photo; the resident rates 不满意 on the follow page and the ticket reopens to the community; the
community whistles 城管局, which reports in and records its work with a photo; the community
confirms with a photo, and the resident sees the new outcome. The resident keeps her own browser
(her session holds the verified phone); staff share another one, logging in as each in turn.

A second test covers the community's map, a colleague's conflicting click and the staff intake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.testing import build_small_tree, make_user, superactor
from gongzhi.doorplates.services import doorplate_for
from gongzhi.territory.models import Node, Organization, OrganizationKind
from gongzhi.tickets.models import (
    Category,
    CategoryQuestion,
    Channel,
    EventAction,
    QuestionType,
    Rating,
    Summons,
    Ticket,
)
from gongzhi.tickets.services.handling import ticket_accept
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.workflow import Level, TicketState

from .conftest import DESKTOP, PHONE, Site, describe_matter, photo_upload, verify_phone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
MOBILE = "13812345678"


def _world() -> dict[str, Any]:
    tree = build_small_tree()
    # Points (the demo may have no boundaries): the map draws squares around them.
    for node, (lat, lng) in {
        tree.community: ("35.5530", "116.8280"),
        tree.grid_a: ("35.5540", "116.8260"),
        tree.grid_b: ("35.5515", "116.8310"),
        tree.building_a: ("35.5542", "116.8262"),
        tree.household_a1: ("35.5542", "116.8262"),
    }.items():
        Node.objects.filter(pk=node.pk).update(latitude=Decimal(lat), longitude=Decimal(lng))
    Node.objects.filter(kind="compound", path__startswith=tree.grid_a.path).update(
        latitude=Decimal("35.5541"), longitude=Decimal("116.8261")
    )
    Node.objects.filter(kind="compound", path__startswith=tree.grid_b.path).update(
        latitude=Decimal("35.5513"), longitude=Decimal("116.8312")
    )
    chengguan = Organization.objects.create(code="dept-cgj", name="城管局", kind=OrganizationKind.DEPARTMENT)
    chengguan.nodes.add(tree.district)
    Organization.objects.create(code="dept-zjj", name="住建局", kind=OrganizationKind.DEPARTMENT)
    category = Category.objects.create(
        code="dumping",
        name="楼道堆物",
        group="环境卫生",
        keywords="堆物 堆放 堆满 纸箱 旧家具 杂物 消防通道",
        response_minutes=120,
        resolution_minutes=3 * 24 * 60,
        order=1,
    )
    category.departments.add(chengguan)
    CategoryQuestion.objects.create(
        category=category, code="where", prompt="堆放在哪里", datatype=QuestionType.STRING, required=False
    )
    users = {
        "worker": make_user("wang-grid-a", role=Role.GRID_WORKER, node=tree.grid_a),
        "staff": make_user("li-community", role=Role.COMMUNITY_STAFF, node=tree.community),
        "colleague": make_user("sun-community", role=Role.COMMUNITY_STAFF, node=tree.community),
        "handler": make_user("zhao-cgj", role=Role.DEPARTMENT_HANDLER, organization=chengguan),
    }
    for key, name in (("worker", "王网格"), ("staff", "李社区"), ("handler", "赵城管")):
        users[key].first_name = name
        users[key].save()
    return {"tree": tree, "category": category, **users}


def open_tickets(world: dict[str, Any]) -> tuple[Ticket, Ticket]:
    """Two open tickets of the community, one in each grid (grid A's from a doorplate, grid B's by phone)."""
    tree = world["tree"]
    mine = ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=tree.household_a1.pk,
            category_code="dumping",
            description="1号楼楼道里堆满了纸箱和旧家具，挡住了消防通道",
            channel=Channel.DOORPLATE,
            reporter_phone=MOBILE,
        ),
    )
    theirs = ticket_submit(
        actor=superactor(),
        data=TicketInput(
            node_id=tree.household_b1.pk,
            category_code="dumping",
            description="东苑3号楼门口有建筑垃圾",
            channel=Channel.PHONE,
            reporter_phone="13998765678",
        ),
    )
    return mine, theirs


@pytest.fixture
def resident(browser: Browser, live_server: Any) -> Iterator[Site]:
    """The resident's own phone: a browser of her own, 375 px wide, in Chinese."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    phone = Site(page=context.new_page(), context=context, base_url=live_server.url)
    yield phone
    context.close()


def _on_phone(site: Site) -> None:
    site.page.set_viewport_size(PHONE)  # type: ignore[arg-type]


def _look(site: Site, name: str, *, phone: bool = True) -> None:
    """axe-core and the screenshots of the page as it is now; then back to the phone's width."""
    site.assert_accessible(name)
    site.screenshot(name)
    if phone:
        _on_phone(site)


def _switch_user(site: Site, username: str) -> None:
    site.context.clear_cookies()
    site.login(username)


def _image_loaded(site: Site, src: str) -> None:
    """The photo whose address ends with `src` is on the page and has loaded (lazy ones: scrolled to)."""
    site.page.locator(f"img[src$='{src}']").first.scroll_into_view_if_needed()
    site.page.wait_for_function(
        "src => [...document.images].some(i => i.src.endsWith(src) && i.complete && i.naturalWidth > 0)",
        arg=src,
    )


def test_the_acceptance_story_from_doorplate_to_confirmed_whistle(
    site: Site, resident: Site, tmp_path: Any, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = _world()
    tree = world["tree"]
    token = doorplate_for(tree.building_a).token
    phone = resident.page

    # --- 1. The resident scans the doorplate of her building ----------------------------------------
    resident.goto(f"/d/{token}/")
    expect(phone.locator(".place .address")).to_have_text("春都华府 1号楼")
    _look(resident, "journey-1-doorplate")
    phone.locator("a.entry[data-kind=help]").click()
    expect(phone).to_have_url(re.compile(rf"/d/{re.escape(token)}/new/help/$"))

    # She describes it; the suggested category is picked with one tap; she adds a photo.
    describe_matter(
        phone,
        description="1号楼楼道里堆满了纸箱和旧家具，挡住了消防通道",
        category="dumping",
        answers={"where": "一单元二楼楼梯口"},
        photo="楼道.jpg",
    )
    verify_phone(phone, MOBILE)  # a code by SMS (the development gateway: read from the outbox)
    phone.locator("input[name=name]").fill("张秀英")
    _look(resident, "journey-2-new-ticket")
    with phone.expect_navigation():
        phone.locator("#ticket-form button.submit").click()

    ticket = Ticket.objects.get()
    assert (ticket.node, ticket.channel, ticket.category.code) == (
        tree.building_a,
        Channel.DOORPLATE,
        "dumping",
    )
    assert (ticket.reporter_phone, ticket.reporter_name, ticket.answers) == (
        MOBILE,
        "张秀英",
        {"where": "一单元二楼楼梯口"},
    )
    assert ticket.photos.count() == 1
    follow_path = f"/t/{ticket.follow_token}/"
    expect(phone).to_have_url(re.compile(rf"{re.escape(follow_path)}\?new=1$"))
    expect(phone.locator(".ticket-number")).to_have_text(ticket.number)
    expect(phone.locator("#status")).to_have_class(re.compile("status-waiting"))
    expect(phone.locator(".photos img")).to_have_count(1)
    _look(resident, "journey-3-ticket-sent")

    # --- 2. The grid worker, on her phone, accepts and resolves that ticket with a photo -------------
    page = site.page
    _on_phone(site)
    site.login(world["worker"].username)
    site.goto("/tickets/")
    row = page.locator("#results a", has_text=ticket.number)
    expect(row).to_be_visible()
    _look(site, "journey-4-grid-list")
    row.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.number}/$"))
    expect(page.locator("main")).to_contain_text("一单元二楼楼梯口")
    resident_photo = ticket.photos.get()
    _image_loaded(site, f"/photos/{resident_photo.pk}/")
    _look(site, "journey-5-ticket-submitted")
    # A double tap acts once: the button is disabled while the request runs.
    page.locator("form[action$='/accept/'] button").dblclick()
    expect(page.locator(".flash")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee) == (TicketState.ACCEPTED, world["worker"])
    assert ticket.events.filter(action=EventAction.ACCEPTED).count() == 1

    resolve = page.locator("details:has(form[action$='/resolve/'])")
    if not resolve.evaluate("el => el.open"):
        resolve.locator("summary").click()
    resolve.locator("textarea[name=resolve-note]").fill("已联系物业清运，楼道已清空")
    resolve.locator("textarea[name=resolve-public_outcome]").fill("楼道杂物已清运。")  # for the public board
    resolve.locator("input[type=file]").set_input_files(files=[photo_upload("清理后.jpg", (90, 140, 200))])  # type: ignore[list-item]
    site.screenshot("journey-6-resolve-form")
    _on_phone(site)
    resolve.locator("button[type=submit]").click()
    expect(page.locator(".ticket-summary .state-resolved")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.state, ticket.resolution_note) == (TicketState.RESOLVED, "已联系物业清运，楼道已清空")
    work_photo = ticket.photos.exclude(pk=resident_photo.pk).get()
    assert work_photo.event is not None and work_photo.event.action == EventAction.RESOLVED
    _image_loaded(site, f"/photos/{work_photo.pk}/")
    _look(site, "journey-7-ticket-resolved")

    # --- 3. The resident sees the work and rates 不满意 on the follow page ------------------------------
    resident.goto(follow_path)
    expect(phone.locator(".outcome")).to_contain_text("已联系物业清运")
    _image_loaded(resident, f"/photos/{work_photo.pk}/")
    assert "王网格" not in phone.content()  # a role title, never the worker's name
    form = phone.locator("#rate form")
    expect(form).to_be_visible()  # no fallback: without the form there is nothing to rate with
    form.locator(f"label:has(input[name=rating][value={Rating.UNSATISFIED}])").click()
    expect(form.locator(f"input[name=rating][value={Rating.UNSATISFIED}]")).to_be_checked()
    form.locator("textarea[name=comment]").fill("纸箱又堆回来了")
    _look(resident, "journey-8-rating")
    with phone.expect_navigation():
        form.locator("button.submit").click()
    expect(phone).to_have_url(re.compile(r"rated=1"))
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level, ticket.owner_node) == (
        TicketState.REOPENED,
        Level.COMMUNITY,
        tree.community,
    )
    assert (ticket.rating, ticket.rating_comment) == (Rating.UNSATISFIED, "纸箱又堆回来了")
    expect(phone.locator("#status")).to_have_class(re.compile("status-waiting"))
    expect(phone.locator(".timeline")).to_contain_text("纸箱又堆回来了")
    _look(resident, "journey-9-reopened")

    # --- 4. The community accepts and whistles 城管局 ---------------------------------------------------
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    _switch_user(site, world["staff"].username)
    site.goto("/tickets/?state=open")
    expect(page.locator("#results")).to_contain_text(ticket.number)
    page.locator("#results a", has_text=ticket.number).click()
    expect(page.locator(".ticket-summary .state-reopened")).to_be_visible()
    page.locator("form[action$='/accept/'] button").click()
    expect(page.locator(".flash")).to_be_visible()
    whistle = page.locator("details:has(form[action$='/whistle/'])")
    whistle.locator("summary").click()
    whistle.get_by_label("城管局").check()
    whistle.locator("textarea").fill("楼道堆物反复出现，请城管到场清理并告知居民")
    site.screenshot("journey-10-whistle-form")
    whistle.locator("button[type=submit]").click()
    expect(page.locator(".whistle")).to_be_visible()
    summons = Summons.objects.select_related("department", "whistle").get()
    assert (summons.department.name, summons.whistle.level) == ("城管局", Level.COMMUNITY)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.assignee) == (TicketState.IN_PROGRESS, world["staff"])
    _look(site, "journey-11-whistled", phone=False)

    # --- 5. 城管局 reports in and records its work ------------------------------------------------------
    _switch_user(site, world["handler"].username)
    site.goto("/tickets/summons/")
    waiting = page.locator("article.whistle", has_text=ticket.number)
    expect(waiting).to_be_visible()
    _look(site, "journey-12-summonses", phone=False)
    waiting.locator("form[action$='/report-in/'] button").click()
    expect(page.locator(".messages")).to_contain_text("已报到")
    act = page.locator("article.whistle", has_text=ticket.number).locator("form[action$='/act/']")
    act.locator("textarea[name=note]").fill("已到场清理纸箱和旧家具，张贴提示")
    act.locator("input[type=file]").set_input_files(files=[photo_upload("城管清理.jpg", (120, 170, 110))])  # type: ignore[list-item]
    expect(act.locator(".photo-count")).to_contain_text("1")
    site.screenshot("journey-13-act-form")
    act.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("已到场清理纸箱")
    summons.refresh_from_db()
    assert summons.reported_at is not None and summons.acted_at is not None
    assert summons.reported_by == world["handler"]
    department_photo = ticket.photos.get(event__action=EventAction.DEPARTMENT_ACTED)
    _look(site, "journey-14-department-acted", phone=False)

    # --- 6. The community confirms: resolved -----------------------------------------------------------
    _switch_user(site, world["staff"].username)
    site.goto(f"/tickets/{ticket.number}/")
    confirm = page.locator(f"form[action$='/whistles/{summons.whistle_id}/confirm/']")
    _image_loaded(site, f"/photos/{department_photo.pk}/")  # the department's photo, on the ticket
    confirm.locator("textarea[name=note]").fill("现场已复核，楼道畅通")
    confirm.locator("input[type=file]").set_input_files(files=[photo_upload("复核.jpg", (200, 170, 90))])  # type: ignore[list-item]
    expect(confirm.locator(".photo-count")).to_contain_text("1")
    site.screenshot("journey-15-confirm-form")
    confirm.locator("button[type=submit]").click()
    expect(page.locator(".ticket-summary .state-resolved")).to_be_visible()
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level, ticket.resolution_note) == (
        TicketState.RESOLVED,
        Level.COMMUNITY,
        "现场已复核，楼道畅通",
    )
    assert list(ticket.events.filter(action__in=[EventAction.CONFIRMED]).values_list("note", flat=True)) == [
        "现场已复核，楼道畅通"
    ]
    confirm_photo = ticket.photos.get(event__action=EventAction.RESOLVED, event__note="现场已复核，楼道畅通")
    expect(page.locator(".ticket-timeline")).to_contain_text("城管局")
    _image_loaded(site, f"/photos/{confirm_photo.pk}/")
    _look(site, "journey-16-confirmed", phone=False)

    # --- 7. The resident sees the new outcome, with the department's part -----------------------------
    resident.goto(follow_path)
    expect(phone.locator(".outcome")).to_contain_text("现场已复核，楼道畅通")
    _image_loaded(resident, f"/t/{ticket.follow_token}/photos/{confirm_photo.pk}/")  # the outcome's photo
    _image_loaded(resident, f"/t/{ticket.follow_token}/photos/{department_photo.pk}/")  # in the timeline
    # The department acted under its own name, not the community's and not its handler's.
    expect(phone.locator(".timeline")).to_contain_text("城管局已到场报到")
    expect(phone.locator(".timeline")).to_contain_text("城管局已完成处理")
    assert "赵城管" not in phone.content()
    expect(phone.locator("#rate form")).to_be_visible()  # she may rate again
    _look(resident, "journey-17-resolved-again")


def test_the_community_map_a_colleagues_click_and_the_staff_intake(site: Site, settings: Any) -> None:
    world = _world()
    tree = world["tree"]
    mine, _theirs = open_tickets(world)
    page = site.page
    site.login(world["staff"].username)

    # Both grids' tickets on the community's list and map.
    site.goto("/tickets/?state=open")
    expect(page.locator("#results")).to_contain_text("东苑")
    site.screenshot("tickets-list-community")
    site.goto(f"/tickets/map/?node={tree.community.pk}")
    page.wait_for_function("() => document.querySelector('#ticket-map canvas') !== null")
    expect(page.locator("main table")).to_contain_text("东苑")
    _look(site, "tickets-map", phone=False)

    # A colleague accepts first: pressing "accept" now gives a clear message, not a 500.
    site.goto(f"/tickets/{mine.number}/")
    ticket_accept(actor=resolve_actor(world["colleague"]), ticket_id=mine.pk)
    page.locator("form[action$='/accept/'] button").click()
    expect(page.locator("#ticket-body .error-box")).to_be_visible()
    expect(page.locator("form[action$='/accept/']")).to_have_count(0)
    _look(site, "ticket-detail-conflict", phone=False)

    # A ticket taken on the doorstep: the similar open ticket is shown while typing.
    site.goto(f"/tickets/new/?node={tree.household_a2.pk}")
    page.locator("#id_category").select_option("dumping")
    expect(page.locator("#questions")).to_contain_text("堆放在哪里")
    page.locator("#id_description").fill("楼道里又堆了纸箱")
    expect(page.locator("#similar")).to_contain_text(mine.number)
    _look(site, "ticket-new", phone=False)
    page.locator("form.intake button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    assert Ticket.objects.filter(channel=Channel.DOORSTEP, entered_by=world["staff"]).count() == 1
