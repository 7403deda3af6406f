"""A secretary gives a building leader role from the building's page, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, RoleAssignment
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import clock
from gongzhi.core.testing import build_small_tree, make_user
from gongzhi.territory.models import NodeStats

from .conftest import Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_secretary_makes_a_resident_building_leader_from_the_buildings_page(site: Site) -> None:
    tree = build_small_tree()
    secretary = make_user("li-secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)
    leader = make_user("wang-fang")
    leader.display_name = "王芳"
    leader.save()
    site.login(secretary.username)

    # From her home, down the tree to the building, whose page offers to assign a role there.
    site.page.locator("main a", has_text="春都华府").click()
    site.page.locator("main a", has_text="1号楼").click()
    expect(site.page.locator("h1")).to_contain_text("1号楼")
    site.screenshot("node-building-secretary")
    site.page.locator("main a", has_text="在此分配角色").click()
    expect(site.page).to_have_url(re.compile(rf"/accounts/roles/new/\?node={tree.building_a.pk}$"))
    expect(site.page.locator("h1")).to_contain_text("在1号楼分配角色")
    expect(site.page.locator("nav.breadcrumb")).to_contain_text("奎星楼社区")
    expect(site.page.locator("nav.breadcrumb")).to_contain_text("春都华府")
    expect(site.page.locator("input[name=starts_on]")).to_have_value(clock.today().isoformat())
    site.assert_accessible("assign a role")
    site.screenshot("role-new")

    # A mistyped username is refused next to the field; nothing is given.
    site.page.locator("input[name=username]").fill("wang-fan")
    site.page.locator("select[name=role]").select_option(label="楼栋长")
    site.page.locator("main form [type=submit]").click()
    expect(site.page.locator("#id_username_error")).to_have_text("没有此用户名的账号。")
    expect(site.page.locator("input[name=username]")).to_have_attribute("aria-invalid", "true")
    assert not RoleAssignment.objects.filter(role=Role.BUILDING_LEADER).exists()
    site.assert_accessible("assign a role, refused")
    site.screenshot("role-new-error")

    # Corrected: the roles page says who holds which role where, and lists the new row.
    site.page.locator("input[name=username]").fill("wang-fang")
    expect(site.page.locator("select[name=role]")).to_have_value(Role.BUILDING_LEADER)
    site.page.locator("main form [type=submit]").click()
    expect(site.page).to_have_url(re.compile(r"/accounts/roles/$"))
    message = site.page.locator(".messages")
    expect(message).to_contain_text("王芳（wang-fang）")
    expect(message).to_contain_text("楼栋长")
    expect(message).to_contain_text("春都华府 › 1号楼")
    row = site.page.locator("tbody tr", has_text="wang-fang")
    expect(row).to_contain_text("楼栋长")
    expect(row).to_contain_text("1号楼")
    expect(row).to_contain_text(clock.today().isoformat())
    site.assert_accessible("roles, after assigning")
    site.screenshot("role-given")

    given = RoleAssignment.objects.get(user=leader)
    assert (given.role, given.node_id, given.starts_on, given.ends_on) == (
        Role.BUILDING_LEADER,
        tree.building_a.pk,
        clock.today(),
        None,
    )
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.CREATE, target_type="accounts.roleassignment", target_id=str(given.pk)
        ).count()
        == 1
    )
    assert NodeStats.objects.get(node=tree.building_a).building_leaders == 1
