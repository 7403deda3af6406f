"""Staff journeys in a real browser: scope, search, an audited reveal, accessibility, screenshots."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from gongzhi.accounts.models import Role
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import build_small_tree, make_id_number, make_user
from gongzhi.imports.formats import ROSTER_COLUMNS
from gongzhi.people.models import Person

from .conftest import Site

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_login_page_loads_its_stylesheets(site: Site) -> None:
    site.goto("/accounts/login/")

    stylesheets = site.page.locator("link[rel=stylesheet]")
    hrefs = [stylesheets.nth(i).get_attribute("href") or "" for i in range(stylesheets.count())]
    assert any("pico" in href for href in hrefs), hrefs
    for href in hrefs:
        response = site.page.request.get(site.url(href))
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("text/css"), href
    # Pico's styles really apply: its buttons are not the browser's grey default.
    background = site.page.locator("form button[type=submit]").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background not in {"rgb(239, 239, 239)", "rgba(0, 0, 0, 0)"}


def test_the_login_page_is_in_chinese_accessible_and_clean(site: Site) -> None:
    site.goto("/accounts/login/")

    assert site.page.locator("html").get_attribute("lang") == "zh-Hans"
    site.assert_accessible("login")
    site.screenshot("login")


def test_a_grid_worker_sees_only_her_grid_and_reveals_a_phone_with_a_reason(site: Site) -> None:
    tree = build_small_tree()
    worker = make_user("wang-grid-a", role=Role.GRID_WORKER, node=tree.grid_a)

    site.login(worker.username)

    # Home: her grid with its compound; nothing of grid B.
    expect(site.page.locator("main")).to_contain_text(tree.grid_a.name)
    expect(site.page.locator("main")).to_contain_text("春都华府")
    assert tree.grid_b.name not in site.page.content()
    assert "东苑小区" not in site.page.content()
    site.assert_accessible("home (grid worker)")
    site.screenshot("home-grid-worker")

    # Her grid's page works; grid B's page is not found, not merely forbidden.
    assert site.goto(f"/nodes/{tree.grid_a.pk}/").status == 200
    expect(site.page.locator("h1")).to_contain_text(tree.grid_a.name)
    site.assert_accessible("node page")
    site.screenshot("node-grid")
    assert site.goto(f"/nodes/{tree.grid_b.pk}/").status == 404

    # Search: her resident is found, masked; grid B's resident is not.
    site.goto(f"/people/?q={tree.resident_b.name}")
    expect(site.page.locator("#results")).not_to_contain_text(tree.resident_b.name)
    site.goto("/people/")
    site.page.locator("#id_q").fill(tree.resident_a.name)
    site.page.locator("form.search-form [type=submit]").click()
    result_link = site.page.locator("#results a", has_text=tree.resident_a.name)
    expect(result_link).to_be_visible()
    expect(site.page.locator("#results")).to_contain_text("138****1234")
    assert "13812341234" not in site.page.content()
    site.assert_accessible("people search")
    site.screenshot("people-search")

    # Person page: masked phone; reveal asks for a reason, shows the number and writes the audit row.
    result_link.click()
    expect(site.page).to_have_url(re.compile(rf"/people/{tree.resident_a.pk}/$"))
    phone = site.page.locator("#field-phone")
    expect(phone).to_contain_text("138****1234")
    site.assert_accessible("person page")
    site.screenshot("person")

    phone.locator("summary").click()
    phone.locator("input[name=reason]").fill("入户走访前电话联系")
    phone.locator("form [type=submit]").click()
    expect(site.page.locator("[data-revealed=phone]")).to_have_text("13812341234")
    site.screenshot("person-revealed")

    entry = AuditEntry.objects.get(action=AuditAction.REVEAL, actor=worker)
    assert (entry.field, entry.reason, entry.target_id) == (
        "phone",
        "入户走访前电话联系",
        str(tree.resident_a.pk),
    )


def test_a_reveal_without_a_reason_shows_nothing_and_records_nothing(site: Site) -> None:
    tree = build_small_tree()
    worker = make_user("wang-grid-a", role=Role.GRID_WORKER, node=tree.grid_a)
    site.login(worker.username)
    site.goto(f"/people/{tree.resident_a.pk}/")

    phone = site.page.locator("#field-phone")
    phone.locator("summary").click()
    phone.locator("input[name=reason]").fill(" ")
    # Skip the browser's own minlength check, so the server's answer is what is tested.
    phone.locator("form").evaluate("form => form.setAttribute('novalidate', '')")
    phone.locator("form [type=submit]").click()

    expect(phone.locator("[role=alert]")).to_be_visible()
    assert "13812341234" not in site.page.content()
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()


def test_a_community_secretary_sees_both_grids_of_her_community(site: Site) -> None:
    tree = build_small_tree()
    secretary = make_user("li-secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)

    site.login(secretary.username)

    main = site.page.locator("main")
    for name in (tree.community.name, tree.grid_a.name, tree.grid_b.name, "春都华府", "东苑小区"):
        expect(main).to_contain_text(name)
    site.screenshot("home-secretary")

    assert site.goto(f"/nodes/{tree.grid_b.pk}/").status == 200
    assert site.goto(f"/nodes/{tree.subdistrict.pk}/").status == 404

    site.goto("/people/?q=")
    results = site.page.locator("#results")
    expect(results).to_contain_text(tree.resident_a.name)
    expect(results).to_contain_text(tree.resident_b.name)


def _roster_xlsx(rows: list[dict[str, str]]) -> bytes:
    """A household roster as a community would fill it in: the template's Chinese headers in row 1."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([column.header for column in ROSTER_COLUMNS])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in ROSTER_COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_import_with_bad_rows_names_each_row_and_column_and_writes_nothing(site: Site) -> None:
    tree = build_small_tree()
    secretary = make_user("li-secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)
    good = {
        "building_code": tree.building_a.code,
        "door_number": "103",
        "floor_area": "76.5",
        "party_household": "否",
        "name": "赵文华",
        "phone": "13700001111",
        "id_number": make_id_number(7, "19700505"),
        "gender": "男",
        "relation": "业主",
    }
    bad_phone = {**good, "door_number": "104", "name": "钱多多", "phone": "1370000", "id_number": ""}
    valid_id = make_id_number(8, "19700505")
    wrong_check_digit = valid_id[:-1] + ("1" if valid_id[-1] == "0" else "0")
    bad_id = {**good, "door_number": "105", "name": "孙小美", "phone": "", "id_number": wrong_check_digit}
    workbook = _roster_xlsx([good, bad_phone, bad_id])
    people_before = Person.objects.count()

    site.login(secretary.username)
    site.goto("/imports/")
    site.assert_accessible("import page")
    site.screenshot("import")

    upload = site.page.locator("form[enctype='multipart/form-data']")
    upload.locator("input[name=kind][value=roster]").check()
    upload.locator("input[type=file]").set_input_files(
        files=[{"name": "花名册.xlsx", "mimeType": XLSX, "buffer": workbook}]
    )
    upload.locator("[type=submit]").click()

    errors = site.page.locator("table.import-errors tbody tr")
    expect(errors.first).to_be_visible()
    rows = [
        [cell.strip() for cell in errors.nth(i).locator("td").all_inner_texts()]
        for i in range(errors.count())
    ]
    assert [(row, column) for row, column, _reason in rows] == [("3", "手机号"), ("4", "身份证号")]
    assert all(reason for _row, _column, reason in rows)
    site.assert_accessible("import errors")
    site.screenshot("import-errors")

    assert Person.objects.count() == people_before
    assert not Person.objects.filter(name="赵文华").exists()


def test_a_secretary_ends_a_role_finds_a_person_by_id_number_and_an_empty_household(site: Site) -> None:
    tree = build_small_tree()
    secretary = make_user("li-secretary", role=Role.COMMUNITY_SECRETARY, node=tree.community)
    worker = make_user("wang-grid-a", role=Role.GRID_WORKER, node=tree.grid_a)
    site.login(secretary.username)

    # Roles: the grid worker's role is listed; ending it asks for the last day and a reason.
    site.page.locator("nav.main-nav a", has_text="角色").click()
    row = site.page.locator("tbody tr", has_text=worker.username)
    expect(row).to_contain_text("网格员")
    site.assert_accessible("roles")
    site.screenshot("roles")
    row.locator("a", has_text="结束该角色").click()
    site.page.locator("input[name=reason]").fill("调往其他社区")
    site.assert_accessible("end a role")
    site.screenshot("role-end")
    site.page.locator("main form [type=submit]").click()
    expect(site.page.locator(".messages")).to_contain_text(worker.username)
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, target_type="accounts.roleassignment")
    assert entry.reason == "调往其他社区"

    # Find by ID number: a POST, so the number is in no address; it lands on the person's page.
    site.goto("/people/")
    site.page.locator("details.find-by-id summary").click()
    site.page.locator("input[name=id_number]").fill(make_id_number(1))
    site.screenshot("find-by-id")
    site.page.locator("form.id-lookup-form [type=submit]").click()
    expect(site.page).to_have_url(re.compile(rf"/people/{tree.resident_a.pk}/$"))
    expect(site.page.locator(".messages")).to_contain_text("审计日志")
    assert make_id_number(1) not in site.page.url
    assert AuditEntry.objects.filter(action=AuditAction.LOOKUP, actor=secretary).count() == 1

    # An empty household is found by its door number.
    site.goto("/people/?q=102")
    households = site.page.locator("#results section")
    expect(households).to_contain_text("春都华府 1号楼 102")
    expect(households).to_contain_text("无登记人员")
    site.assert_accessible("search by door number")
    site.screenshot("search-household")
