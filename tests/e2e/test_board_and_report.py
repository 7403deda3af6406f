"""A resident opens the community's public board from a doorplate's 码上查 on a 375-px phone; the
community staff make the monthly report and download its PDF and xlsx. axe-core on every page."""

from __future__ import annotations

import io
import subprocess

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from gongzhi.core import clock
from gongzhi.core.testing import superactor
from gongzhi.doorplates.services import doorplate_for
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services.handling import ticket_accept, ticket_resolve
from gongzhi.tickets.tests.factories import make_world, submit

from .conftest import PHONE, SCREENSHOTS, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _history():
    world = make_world()
    done = submit(world.tree, reporter_name="王秀英", reporter_phone="13812345678")
    ticket_accept(actor=superactor(), ticket_id=done.pk)
    ticket_resolve(actor=superactor(), ticket_id=done.pk, note="已更换水管，电话 13912345678")
    submit(world.tree, node=world.tree.household_b1, reporter_phone="13700001111")
    rollups_update(settle_seconds=0)
    return world


def test_a_resident_opens_the_public_board_from_the_doorplate(site: Site) -> None:
    world = _history()
    token = doorplate_for(world.tree.building_a).token
    page = site.page
    page.set_viewport_size(PHONE)
    site.goto(f"/d/{token}/")
    page.locator("a.entry-lookup").click()
    board_link = page.locator(f'a[href="/board/{world.tree.community.code}/"]')
    expect(board_link).to_be_visible()
    board_link.click()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".place .community")).to_have_text(world.tree.community.name)
    expect(page.locator(".board-rates li")).to_have_count(4)
    expect(page.locator(".board-tickets li")).to_have_count(2)
    text = page.locator("main").inner_text()
    assert "已更换水管" in text
    for personal in ("王秀英", "13812345678", "13912345678", "13700001111", "worker_a"):
        assert personal not in text
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # no sideways scrolling on the phone
    site.assert_accessible("public board")
    site.screenshot("insight-public-board")


def test_staff_make_the_monthly_report_and_download_it(site: Site) -> None:
    world = _history()
    site.login("community")
    site.goto("/insight/reports/")
    page = site.page
    page.locator("#report-node").select_option(str(world.tree.community.pk))
    page.locator("#report-month").fill(f"{clock.today():%Y-%m}")
    site.assert_accessible("monthly reports")
    page.locator(".report-form button[type=submit]").click()
    pdf_link = page.locator("#report-status a[href$='/pdf/']")
    expect(pdf_link).to_be_visible()
    site.assert_accessible("monthly report")
    site.screenshot("insight-monthly-report-page")

    with page.expect_download() as pdf_download:
        pdf_link.click()
    pdf_path = pdf_download.value.path()
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, check=True).stdout.decode()
    assert world.tree.community.name in text and world.category.name in text
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-singlefile",
            str(pdf_path),
            str(SCREENSHOTS / "insight-report-pdf-page1"),
        ],
        check=True,
    )

    with page.expect_download() as xlsx_download:
        page.locator("#report-status a[href$='/xlsx/']").click()
    workbook = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    assert workbook.worksheets[1].cell(row=2, column=1).value == world.category.name

    site.goto("/insight/reports/")
    expect(page.locator("table a[href$='/pdf/']")).to_have_count(1)
    site.screenshot("insight-monthly-reports")
