"""A resident opens the community's public board from a doorplate's 码上查 on a 375-px phone; the
community secretary asks for last month's report, waits for it, and downloads its PDF and xlsx.
axe-core on every page; screenshots of the pages and of every page of the PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from dataclasses import dataclass

import pytest
import time_machine
from openpyxl import load_workbook
from playwright.sync_api import expect

from gongzhi.accounts.models import Role, User
from gongzhi.core import clock
from gongzhi.core.testing import make_user, superactor
from gongzhi.doorplates.services import doorplate_for
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.models import Ticket, TicketKind
from gongzhi.tickets.services.handling import ticket_accept, ticket_resolve, ticket_whistle
from gongzhi.tickets.tests.factories import World, make_category, make_world, submit

from .conftest import PHONE, SCREENSHOTS, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PERSONAL = ("王秀英", "13812345678", "13912345678", "110101199003074514", "3单元502", "王师傅")


@dataclass
class History:
    world: World
    secretary: User
    overdue: Ticket  # last month's, never accepted
    consultation: Ticket  # last month's 码上办, answered


def _last_month_day() -> dt.datetime:
    """The 10th of last month, 10:00 in Shanghai."""
    first = clock.today().replace(day=1)
    day = (first - dt.timedelta(days=1)).replace(day=10)
    return dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC)


def _history() -> History:
    root = superactor()
    with time_machine.travel(_last_month_day(), tick=False):
        world = make_world()
        make_category("pension", name="养老金咨询", kind=TicketKind.AFFAIRS, keywords="养老金")
        consultation = submit(world.tree, category="pension", description="养老金怎么领取？")
        overdue = submit(world.tree, node=world.tree.household_b1, description="地下室漏水")
        summoned = submit(world.tree, description="楼道水管漏水")
        for ticket in (consultation, summoned):
            ticket_accept(actor=root, ticket_id=ticket.pk)
        ticket_resolve(actor=root, ticket_id=consultation.pk, note="已电话答复领取流程")
        ticket_whistle(actor=root, ticket_id=summoned.pk, department_ids=[world.department.pk], note="请到场")
    # This month's matters on the board: one with a note full of personal data and no text for the
    # board, one with a text for the board.
    done = submit(
        world.tree,
        reporter_name="王秀英",
        reporter_phone="13812345678",
        description="我是王秀英，3单元502卫生间漏水，电话13812345678",
    )
    ticket_accept(actor=root, ticket_id=done.pk)
    ticket_resolve(
        actor=root,
        ticket_id=done.pk,
        note="王师傅到3单元502更换水管，住户王秀英（身份证110101199003074514）有问题请拨 139-1234-5678",
    )
    written = submit(world.tree, node=world.tree.household_b1, reporter_phone="13700001111")
    ticket_accept(actor=root, ticket_id=written.pk)
    ticket_resolve(
        actor=root,
        ticket_id=written.pk,
        note="已修好，王秀英满意",
        public_outcome="已更换卫生间上方的水管，漏水已止住。",
    )
    rollups_update(settle_seconds=0)
    secretary = make_user("liu-secretary", role=Role.COMMUNITY_SECRETARY, node=world.tree.community)
    secretary.display_name = "刘建华"
    secretary.save()
    return History(world, secretary, overdue, consultation)


def test_a_resident_opens_the_public_board_from_the_doorplate(site: Site) -> None:
    history = _history()
    world = history.world
    token = doorplate_for(world.tree.building_a).token
    page = site.page
    page.set_viewport_size(PHONE)
    site.goto(f"/d/{token}/")
    page.locator("a.entry-lookup").click()
    board_link = page.locator(f'a[href="/board/{world.tree.community.code}/"]')
    expect(board_link).to_be_visible()
    board_link.click()
    expect(page.locator("h1")).to_have_text("社区公示")
    expect(page.locator(".place .community")).to_have_text(world.tree.community.name)
    expect(page.locator(".board-rates li")).to_have_count(4)
    finished = page.locator("section[aria-labelledby=finished-heading] .board-tickets li")
    received = page.locator("section[aria-labelledby=received-heading] .board-tickets li")
    expect(finished).to_have_count(3)  # this month's two and last month's consultation
    expect(received).to_have_count(5)
    expect(finished.nth(0)).to_contain_text("已更换卫生间上方的水管，漏水已止住。")
    expect(finished.nth(0).locator(".status")).to_have_text("已完成")
    expect(finished.nth(1)).to_contain_text("由网格员办结，用时不到 1 小时。")
    expect(received.nth(2)).to_contain_text("网格员已受理，已吹哨召集城管局协助办理。")
    expect(received.nth(3)).to_contain_text("等待网格员受理。")
    text = page.locator("main").inner_text()
    for personal in (*PERSONAL, "13700001111", "worker_a", "刘建华", "卫生间漏水"):
        assert personal not in text, personal
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # no sideways scrolling on the phone
    page.locator(".board-definitions summary").click()
    expect(page.locator(".board-definitions dd").first).to_be_visible()
    site.assert_accessible("public board")
    site.screenshot("insight-public-board")


def test_the_secretary_downloads_last_months_report(site: Site) -> None:
    history = _history()
    world = history.world
    last_month = _last_month_day().astimezone(dt.UTC).date().replace(day=1)
    page = site.page
    site.login(history.secretary.username)
    site.goto("/insight/reports/")
    expect(page.locator("h1")).to_have_text("月度报告")
    expect(page.locator("#report-node")).to_have_value(str(world.tree.community.pk))
    expect(page.locator("#report-month")).to_have_value(f"{last_month:%Y-%m}")  # last month by default
    site.assert_accessible("monthly reports")
    site.screenshot("insight-monthly-reports-empty")
    page.locator(".report-form button[type=submit]").click()

    # The report's page follows the worker's progress until the files are ready.
    expect(page).to_have_url(re.compile(r"/insight/reports/\d+/$"))
    status = page.locator("#report-status")
    pdf_link = status.locator("a[href$='/pdf/']")
    expect(pdf_link).to_be_visible(timeout=30_000)
    expect(status).to_contain_text("报告已生成")
    site.assert_accessible("monthly report")
    site.screenshot("insight-monthly-report-page")

    with page.expect_download() as pdf_download:
        pdf_link.click()
    pdf_path = pdf_download.value.path()
    assert pdf_download.value.suggested_filename.endswith(f"-{last_month:%Y-%m}-1.pdf") or (
        pdf_download.value.suggested_filename.endswith(".pdf")
    )
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, check=True).stdout.decode()
    words = " ".join(text.split())
    assert f"{world.tree.community.name} {last_month:%Y-%m}月度报告" in words
    assert "答复咨询（码上办，已办结） 1 / 1（100.0%）" in words
    assert "办理事项（码上帮，已办结） 0 / 2（0.0%）" in words
    assert history.overdue.number in words and "未按时受理" in words
    assert "城管局：未报到" in words
    for personal in PERSONAL:
        assert personal not in words, personal
    for old in SCREENSHOTS.glob("insight-report-pdf-page-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", str(pdf_path), str(SCREENSHOTS / "insight-report-pdf-page")],
        check=True,
    )
    assert sorted(SCREENSHOTS.glob("insight-report-pdf-page-*.png"))

    with page.expect_download() as xlsx_download:
        status.locator("a[href$='/xlsx/']").click()
    workbook = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
    summary = {row[0]: row[1:3] for row in workbook.worksheets[0].iter_rows(values_only=True) if row[0]}
    assert summary["答复咨询（码上办，已办结）"] == (1, 1)
    assert summary["接诉量"][0] == 3
    overdue = list(workbook["超期"].iter_rows(values_only=True))
    assert {row[0] for row in overdue[1:]} >= {history.overdue.number}

    site.goto("/insight/reports/")
    expect(page.locator("table a[href$='/pdf/']")).to_have_count(1)
    site.assert_accessible("monthly reports with one")
    site.screenshot("insight-monthly-reports")
