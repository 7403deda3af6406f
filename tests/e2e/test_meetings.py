"""A 四位一体 joint meeting from three tickets to a public project, in a real browser.

Community staff convene the meeting from three residents' tickets, residents sign in on 375-px
phones by the meeting's QR address (verifying their phone with the SMS code), staff record the
minutes and a resolution that becomes a project, and the project shows on the community's public
list.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gongzhi.accounts.models import Role
from gongzhi.core.personal import mask_phone
from gongzhi.core.testing import build_small_tree, make_user
from gongzhi.meetings.models import Attendance, Meeting, Project
from gongzhi.notifications.models import Notification
from gongzhi.territory.models import Organization, OrganizationKind
from gongzhi.tickets.models import Category
from gongzhi.tickets.services.intake import TicketInput, ticket_submit

from .conftest import PHONE, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _world() -> dict[str, Any]:
    tree = build_small_tree()
    Category.objects.get_or_create(
        code="leak", defaults={"name": "漏水", "response_minutes": 60, "resolution_minutes": 24 * 60}
    )
    manager = Organization.objects.create(
        code="pm-cd", name="山东春都物业管理有限公司", kind=OrganizationKind.PROPERTY_MANAGER
    )
    committee = Organization.objects.create(
        code="oc-cd", name="春都华府业主委员会", kind=OrganizationKind.OWNERS_COMMITTEE
    )
    manager.nodes.add(tree.community)
    committee.nodes.add(tree.community)
    tickets = [
        ticket_submit(
            actor=None,
            data=TicketInput(
                node_id=node.pk,
                category_code="leak",
                description=text,
                channel="doorplate",
                reporter_phone="13812345678",
            ),
        )
        for node, text in (
            (tree.household_a1, "1号楼楼顶防水层老化，下雨天顶楼漏水"),
            (tree.household_a2, "楼顶漏水，墙面发霉"),
            (tree.household_b1, "楼道顶棚渗水"),
        )
    ]
    staff = make_user("li-community", role=Role.COMMUNITY_STAFF, node=tree.community)
    staff.first_name = "李社区"
    staff.save()
    return {"tree": tree, "tickets": tickets, "staff": staff, "manager": manager, "committee": committee}


def _code(phone: str) -> str:
    message = Notification.objects.filter(
        phone__in=[phone, mask_phone(phone)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def _sign_in_on_a_phone(site: Site, token: str, phone: str, title: str, *, check: bool = False) -> Page:
    browser = site.context.browser
    assert browser is not None
    context = browser.new_context(
        locale="zh-CN",
        viewport=PHONE,  # type: ignore[arg-type]
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(site.url(f"/m/{token}/"))
    expect(page.locator("h1")).to_have_text(title)
    if check:
        page.screenshot(path=str(site_screenshot_path("meetings-resident-signin-375")), full_page=True)
        site.page, staff_page = page, site.page
        site.assert_accessible("the resident's sign-in page")
        site.page = staff_page
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.locator("input[name=phone]").fill(phone)
    page.locator("button[name=action][value=send]").click()
    page.locator("input[name=code]").fill(_code(phone))
    page.locator("button[name=action][value=verify]").click()
    expect(page.locator(".done h1")).to_be_visible()
    expect(page.locator(".done")).to_contain_text(title)
    return page


def test_a_four_in_one_meeting_from_three_tickets_to_a_public_project(
    site: Site, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = _world()
    tree, tickets = world["tree"], world["tickets"]
    site.login("li-community")

    # Convene from the tickets list's selection: /meetings/new/?tickets=…
    ids = ",".join(str(t.pk) for t in tickets)
    site.goto(f"/meetings/new/?node={tree.community.pk}&tickets={ids}")
    page = site.page
    expect(page.locator("select[name=kind]")).to_have_value("four-in-one")
    expect(page.locator("input[name='agenda-0-tickets']")).to_have_value(" ".join(t.number for t in tickets))
    now = timezone.localtime()
    starts = (now - dt.timedelta(minutes=20)).replace(second=0, microsecond=0)
    ends = min(starts + dt.timedelta(hours=2), starts.replace(hour=23, minute=59))
    title = "春都华府楼顶漏水四位一体联席会"
    page.locator("input[name=title]").fill(title)
    page.locator("input[name=place]").fill("奎星楼社区党群服务中心二楼")
    page.locator("input[name=day]").fill(starts.strftime("%Y-%m-%d"))
    page.locator("input[name=starts]").fill(starts.strftime("%H:%M"))
    page.locator("input[name=ends]").fill(ends.strftime("%H:%M"))
    page.get_by_label("山东春都物业管理有限公司").check()
    page.get_by_label("春都华府业主委员会").check()
    # A fourth matter found by the ticket search goes onto the second agenda item.
    page.locator("input[name='agenda-1-title']").fill("楼道渗水")
    page.locator("input[name='agenda-1-tickets']").focus()
    page.locator("#ticket-q").fill(tickets[2].number)
    page.locator(f"#ticket-results [data-ticket='{tickets[2].number}']").click()
    expect(page.locator("input[name='agenda-1-tickets']")).to_have_value(tickets[2].number)
    site.screenshot("meetings-new")
    site.assert_accessible("the convene form")
    with page.expect_navigation():
        page.locator("#meeting-form button[type=submit]").last.click()
    meeting = Meeting.objects.get()
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    assert sorted(meeting.agenda.get(order=1).tickets.values_list("pk", flat=True)) == sorted(
        t.pk for t in tickets
    )
    expect(page.locator(".signin-card svg")).to_be_visible()
    site.screenshot("meetings-detail")
    site.assert_accessible("the meeting page")

    # A new code makes the old one stale.
    old = meeting.signin_token
    with page.expect_navigation():
        page.locator("#signin form button").click()
    meeting.refresh_from_db()
    assert meeting.signin_token != old

    # Residents sign in on their phones at the QR address.
    phone_page = _sign_in_on_a_phone(site, meeting.signin_token, tree.resident_a.phone, title, check=True)
    phone_page.screenshot(path=str(site_screenshot_path("meetings-resident-signed-375")), full_page=True)
    _sign_in_on_a_phone(site, meeting.signin_token, tree.resident_b.phone, title)
    stale = phone_page.context.new_page()
    stale.goto(site.url(f"/m/{old}/"))
    expect(stale.locator("[role=alert]")).to_be_visible()
    stale.screenshot(path=str(site_screenshot_path("meetings-resident-stale-375")), full_page=True)
    assert Attendance.objects.filter(meeting=meeting).count() == 2

    # 张秀英's husband shares her phone: he picks his own name and signs in too.
    from gongzhi.people.models import Person

    Person.objects.create(name="王建军", phone=tree.resident_a.phone, home=tree.household_a1)
    shared = phone_page.context.browser.new_context(  # type: ignore[union-attr]
        locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True, has_touch=True
    ).new_page()
    shared.goto(site.url(f"/m/{meeting.signin_token}/"))
    shared.locator("input[name=phone]").fill(tree.resident_a.phone)
    shared.locator("button[name=action][value=send]").click()
    shared.locator("input[name=code]").fill(_code(tree.resident_a.phone))
    shared.locator("button[name=action][value=verify]").click()
    expect(shared.locator("input[name=person][disabled]")).to_have_count(1)  # 张秀英 signed in already
    shared.get_by_label("王*军").check()
    shared.screenshot(path=str(site_screenshot_path("meetings-resident-choose-375")), full_page=True)
    site.page, staff_page = shared, site.page
    site.assert_accessible("the resident's choice of name")
    site.page = staff_page
    shared.locator("button.submit").click()
    expect(shared.locator(".done h1")).to_be_visible()
    assert Attendance.objects.filter(meeting=meeting).count() == 3

    # Staff record the minutes and a resolution, which becomes a project.
    site.goto(f"/meetings/{meeting.pk}/")
    expect(page.locator("#attendance ol li")).to_have_count(3)
    page.locator("textarea[name=minutes]").fill(
        "议定事项：\n1. 物业两周内完成1号楼楼顶防水维修。\n2. 楼长和业委会监督施工。\n\n下次会议：维修完工后验收。"
    )
    page.locator("textarea[name='resolution-0-text']").fill("春都华府1号楼楼顶防水维修")
    page.locator("select[name='resolution-0-owner']").select_option(label="山东春都物业管理有限公司")
    page.locator("input[name='resolution-0-deadline']").fill(
        (now + dt.timedelta(days=14)).strftime("%Y-%m-%d")
    )
    page.locator("input[name='resolution-0-budget']").fill("38000")
    with page.expect_navigation():
        page.locator("#record button[type=submit]").click()
    project = Project.objects.get()
    assert project.title == "春都华府1号楼楼顶防水维修"
    expect(page.locator(".minutes p")).to_have_count(2)  # the plain text's paragraphs, lines kept
    expect(page.locator(".minutes br")).to_have_count(2)

    # The convener corrects the minutes; the earlier version stays below them.
    page.locator("details.correct-box summary").click()
    minutes = page.locator("details.correct-box textarea[name=minutes]")
    minutes.fill(minutes.input_value().replace("两周内", "十日内"))
    page.locator("details.correct-box input[name=note]").fill("工期记错：会上议定十日内完成")
    with page.expect_navigation():
        page.locator("details.correct-box button[type=submit]").click()
    expect(page.locator("#minutes .minutes").first).to_contain_text("十日内")
    expect(page.locator(".revisions li")).to_contain_text("工期记错")
    page.locator(".revisions details summary").click()
    site.screenshot("meetings-minutes-corrected")
    site.assert_accessible("the corrected minutes")
    page.locator(f"a[href='/meetings/projects/{project.pk}/']").click()
    expect(page.locator("h1")).to_have_text(project.title)
    page.locator("details:has(input[name=source]) summary").click()
    page.locator("input[name=source]").fill("物业公共收益")
    page.locator("input[name=amount]").fill("38000")
    with page.expect_navigation():
        page.locator("#funding form button[type=submit]").click()
    with page.expect_navigation():
        page.locator("form:has(input[name=to][value=under_way]) button").click()
    site.screenshot("meetings-project")
    site.assert_accessible("the project page")

    # A 我为群众办实事 project that did not come from a meeting.
    site.goto(f"/meetings/projects/new/?node={tree.community.pk}")
    page.locator("input[name=title]").fill("东苑小区3号楼楼道声控灯改造")
    page.locator("select[name=owner]").select_option(label="山东春都物业管理有限公司")
    page.locator("input[name=deadline]").fill((now + dt.timedelta(days=60)).strftime("%Y-%m-%d"))
    page.locator("input[name=budget]").fill("12000")
    page.locator("input[name='funding-0-source']").fill("社区基金")
    page.locator("input[name='funding-0-amount']").fill("8000")
    page.locator("input[name='funding-1-source']").fill("共建单位捐助")
    page.locator("input[name='funding-1-amount']").fill("4000")
    page.locator("input[name='milestone-0-title']").fill("征求楼内居民意见")
    page.locator("input[name='milestone-1-title']").fill("安装完成")
    page.locator("input[name='milestone-1-due']").fill((now + dt.timedelta(days=90)).strftime("%Y-%m-%d"))
    with page.expect_navigation():
        page.locator("#project-form button[type=submit]").click()
    expect(page.locator("#project-form .field-error")).to_contain_text("不能晚于项目的完成期限")
    site.screenshot("meetings-project-new")
    site.assert_accessible("the new project form")
    page.locator("input[name='milestone-1-due']").fill((now + dt.timedelta(days=50)).strftime("%Y-%m-%d"))
    with page.expect_navigation():
        page.locator("#project-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("东苑小区3号楼楼道声控灯改造")
    assert Project.objects.count() == 2

    # Anyone sees it on the community's public list, without staff names.
    public = site.context.browser.new_context(locale="zh-CN", viewport=PHONE)  # type: ignore[union-attr,arg-type]
    public_page = public.new_page()
    public_page.goto(site.url(f"/projects/{tree.community.code}/"))
    expect(public_page.locator("article.project h2").first).to_have_text(project.title)
    expect(public_page.locator("article.project").first).to_contain_text("山东春都物业管理有限公司")
    expect(public_page.locator("main")).not_to_contain_text("李社区")
    site.page, original = public_page, site.page
    site.screenshot("meetings-public-projects")
    site.assert_accessible("the public project list")
    site.page = original


def site_screenshot_path(name: str) -> Any:
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
