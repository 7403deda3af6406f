"""The insight dashboards in a real browser: the community secretary goes from the community's three
rates to the lagging grid, its overdue list and a ticket; the district, subdistrict, community, grid
and department dashboards, with eight weeks of history, each screenshotted at 1280 and 375 px (every
chart has its table of figures under it and its definitions); axe-core clean."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.core import clock
from gongzhi.core.testing import build_small_tree, make_user, superactor
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import make_category, make_department, submit

from .conftest import PHONE, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _world() -> dict[str, object]:
    """Grid A resolves one of its two tickets; grid B answers none (it lags); all are this month."""
    now = clock.now()
    today = clock.today()
    # 30 hours back: past the leak's 1-hour response and 24-hour resolution deadlines, but in this
    # month (on its first day, the dashboard is opened on the day's own period instead).
    submitted = max(now - dt.timedelta(hours=30), now - dt.timedelta(days=today.day - 1, hours=now.hour))
    with time_machine.travel(submitted, tick=False):
        tree = build_small_tree()
        category = make_category()
        make_category("lamp", name="路灯", keywords="路灯")
        department = make_department()
        category.departments.add(department)
        root = superactor()
        resolved = submit(tree, description="1号楼楼道漏水，墙面发霉")
        waiting = submit(tree, node=tree.household_a2, description="卫生间漏水到楼下")
        lagging = submit(tree, node=tree.household_b1, description="东苑3号楼路灯不亮", category="lamp")
        submit(tree, node=tree.household_b1, description="3号楼门口路灯坏了很久", category="lamp")
        for ticket in (resolved, waiting):
            handling.ticket_accept(actor=root, ticket_id=ticket.pk)
        handling.ticket_resolve(actor=root, ticket_id=resolved.pk, note="已更换水管")
        handling.ticket_whistle(
            actor=root, ticket_id=waiting.pk, department_ids=[department.pk], note="请到场"
        )
        rollups_update(settle_seconds=0)
    secretary = make_user("zhou-secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)
    secretary.first_name = "周书记"
    secretary.save()
    return {"tree": tree, "secretary": secretary, "lagging": lagging}


def test_the_secretary_finds_the_lagging_grid_and_its_overdue_ticket(site: Site) -> None:
    world = _world()
    tree = world["tree"]
    lagging = world["lagging"]
    page = site.page

    site.login(world["secretary"].username)  # type: ignore[attr-defined]
    page.locator("nav.main-nav a[href='/insight/']").click()
    expect(page).to_have_url(re.compile(rf"/insight/nodes/{tree.community.pk}/$"))  # type: ignore[attr-defined]
    expect(page.locator("h1")).to_contain_text("奎星楼社区")
    expect(page.locator("[data-rate=response]")).to_have_text("50.0%")  # 2 of 4 accepted on time
    expect(page.locator("[data-rate=resolution]")).to_have_text("25.0%")
    expect(page.locator("[data-chart=trend-data] canvas")).to_have_count(1)
    site.assert_accessible("community dashboard")
    site.screenshot("insight-community-dashboard")

    # The ranking puts the lagging grid first.
    ranking = page.locator("section[aria-labelledby=ranking-heading] tbody tr")
    expect(ranking.first).to_contain_text("第二网格")
    ranking.first.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/insight/nodes/{tree.grid_b.pk}/$"))  # type: ignore[attr-defined]
    expect(page.locator("[data-rate=response]")).to_have_text("0.0%")
    site.assert_accessible("grid dashboard")

    # Its overdue list, on the phone, and through to the ticket.
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overdue = page.locator("section[aria-labelledby=overdue-heading]")
    expect(overdue.locator("a.ticket-number")).to_have_count(2)
    site.screenshot("insight-grid-dashboard")
    overdue.locator("a.ticket-number", has_text=lagging.number).click()  # type: ignore[attr-defined]
    expect(page).to_have_url(re.compile(rf"/tickets/{lagging.number}/$"))  # type: ignore[attr-defined]
    expect(page.locator("main")).to_contain_text("路灯不亮")


def test_a_department_handler_sees_the_summonses_of_the_department(site: Site) -> None:
    _world()
    from gongzhi.territory.models import Organization

    department = Organization.objects.get(code="dept-cg")
    handler = make_user("zhao-handler", role=Role.DEPARTMENT_HANDLER, organization=department)
    page = site.page
    site.login(handler.username)
    site.goto("/insight/")
    expect(page).to_have_url(re.compile(rf"/insight/departments/{department.pk}/$"))
    expect(page.locator("[data-figure=summoned]").first).to_have_text("1")
    expect(page.locator("section[aria-labelledby=waiting-heading] a.ticket-number")).to_have_count(1)
    site.assert_accessible("department dashboard")
    site.screenshot("insight-department-dashboard")


def _history() -> dict[str, object]:
    """Eight weeks of tickets in both grids: most accepted and resolved in time, some late, rated,
    one reopened, departments summoned and reporting in; the last days' tickets still open."""
    now = clock.now()
    tree = build_small_tree()
    make_category()
    make_category("lamp", name="路灯", keywords="路灯", response_minutes=120, resolution_minutes=3 * 24 * 60)
    make_category("quiet", name="噪音扰民", keywords="噪音", kind="voice")
    department = make_department()
    handler = make_user("zhao-handler", role=Role.DEPARTMENT_HANDLER, organization=department)
    root = superactor()
    texts = {
        "leak": ("卫生间漏水到楼下", "楼道水管漏水", "厨房下水道漏水"),
        "lamp": ("楼道路灯不亮", "小区路灯坏了", "单元门口路灯一闪一闪"),
        "quiet": ("楼上装修噪音太大", "广场舞噪音扰民"),
    }
    homes = (tree.household_a1, tree.household_a2, tree.household_b1)
    for index in range(40):
        at = now - dt.timedelta(days=55 - index * 55 / 40, hours=index % 5)
        category = ("leak", "lamp", "quiet")[index % 3]
        with time_machine.travel(at, tick=False) as moment:
            ticket = submit(
                tree,
                node=homes[index % 3],
                category=category,
                channel=("doorplate", "web", "doorplate", "api")[index % 4],
                description=texts[category][index % len(texts[category])],
            )
            if index >= 37:
                continue  # the last days: still open
            moment.shift(dt.timedelta(minutes=20 + 50 * (index % 4)))
            handling.ticket_accept(actor=root, ticket_id=ticket.pk)
            if index % 9 == 4:
                handling.ticket_whistle(
                    actor=root, ticket_id=ticket.pk, department_ids=[department.pk], note="请到场"
                )
                moment.shift(dt.timedelta(minutes=30 + 20 * (index % 5)))
                from gongzhi.accounts.scope import resolve_actor
                from gongzhi.tickets.models import Summons

                summons = Summons.objects.get(whistle__ticket=ticket)
                handling.summons_report_in(actor=resolve_actor(handler), summons_id=summons.pk)
                handling.summons_record_action(
                    actor=resolve_actor(handler), summons_id=summons.pk, note="已处置"
                )
                handling.whistle_confirm(actor=root, whistle_id=summons.whistle_id, note="确认办结")
            elif index % 7 != 3:
                moment.shift(dt.timedelta(hours=3 + 9 * (index % 5)))
                handling.ticket_resolve(actor=root, ticket_id=ticket.pk, note="已处理")
            else:
                continue
            moment.shift(dt.timedelta(hours=5))
            rating = "unsatisfied" if index % 11 == 5 else ("satisfied", "basically_satisfied")[index % 2]
            handling.ticket_rate(token=ticket.follow_token, rating=rating)
    rollups_update(settle_seconds=0)
    # The two grids side by side: the community's open tickets are drawn on a map of them.
    for offset, grid in enumerate((tree.grid_a, tree.grid_b)):
        west, south = 116.60 + offset * 0.01, 35.55
        ring = [
            [west, south],
            [west + 0.01, south],
            [west + 0.01, south + 0.008],
            [west, south + 0.008],
            [west, south],
        ]
        type(grid).objects.filter(pk=grid.pk).update(boundary={"type": "Polygon", "coordinates": [ring]})
    admin = make_user("qian-admin", role=Role.DISTRICT_ADMIN, node=tree.district)
    return {"tree": tree, "admin": admin, "handler": handler, "department": department}


def test_every_level_has_its_dashboard_with_tables_under_its_charts(site: Site) -> None:
    world = _history()
    tree = world["tree"]
    page = site.page
    today = clock.today()
    period = f"?from={today - dt.timedelta(days=56):%Y-%m-%d}&to={today:%Y-%m-%d}"  # the eight weeks
    site.login(world["admin"].username)  # type: ignore[attr-defined]
    for level in ("district", "subdistrict", "community", "grid_a"):
        node = getattr(tree, level)
        site.goto(f"/insight/nodes/{node.pk}/{period}")
        expect(page.locator("h1")).to_contain_text(node.name)
        expect(page.locator("[data-chart=trend-data] canvas")).to_have_count(1)
        expect(page.locator("[data-chart=open-data] canvas")).to_have_count(1)
        for dimension in ("kind", "category", "channel", "level"):
            expect(page.locator(f"table[data-dimension={dimension}] tbody tr").first).to_be_visible()
        expect(page.locator("[data-duration=respond]")).not_to_have_text(re.compile("—"))
        expect(page.locator("#def-respond")).to_be_visible()
        site.assert_accessible(f"{level} dashboard")
        site.screenshot(f"insight-{level.removesuffix('_a')}-dashboard-history")
    site.context.clear_cookies()  # log out
    site.login(world["handler"].username)  # type: ignore[attr-defined]
    site.goto(f"/insight/departments/{world['department'].pk}/{period}")  # type: ignore[attr-defined]
    expect(page.locator("[data-rate=resolution]")).not_to_have_text("—")
    expect(page.locator("[data-duration=report_in]")).not_to_have_text(re.compile("—"))
    expect(page.locator("[data-chart=trend-data] canvas")).to_have_count(1)
    site.assert_accessible("department dashboard with history")
    site.screenshot("insight-department-dashboard-history")
