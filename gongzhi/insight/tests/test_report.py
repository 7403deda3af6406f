"""The monthly report job (PDF with an embedded Chinese font, xlsx), its scope, and the ticket export."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from gongzhi.accounts.models import Role
from gongzhi.core.testing import make_user, superactor
from gongzhi.insight.models import MonthlyReport, ReportStatus
from gongzhi.insight.report import (
    TermCount,
    headline_rows,
    monthly_figures,
    monthly_report_run,
    now_words,
    why_words,
)
from gongzhi.insight.services import rollups_update
from gongzhi.territory.models import Node
from gongzhi.tickets.models import Ticket, TicketKind
from gongzhi.tickets.services import handling
from gongzhi.tickets.services.sweep import tickets_sweep
from gongzhi.tickets.tests.factories import World, make_category, make_world, submit
from gongzhi.tickets.workflow import Level

OCTOBER = dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC)
SUBMITTED = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
SWEPT = SUBMITTED + dt.timedelta(hours=3)  # past the 1-hour response and the 2-hour report-in deadlines
RESOLVED_LATE = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
MUCH_LATER = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)
NOVEMBER = dt.date(2026, 11, 1)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SCREENSHOTS = Path("test-artifacts/screenshots")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@dataclass
class Month:
    world: World
    resolved: Ticket  # accepted and resolved on the day
    summoned: Ticket  # accepted, a department summoned that never reports in: not resolved in time
    waiting: Ticket  # never accepted, escalated to the community by the sweep: not accepted in time
    consultation: Ticket  # 码上办, answered on the day
    late: Ticket  # accepted, resolved on 2 December: overdue at the month's end, resolved since
    october: Ticket  # received in October, still open: not November's matter


@pytest.fixture
def month() -> Month:
    with time_machine.travel(OCTOBER, tick=False):
        world = make_world()
        make_category("pension", name="养老金咨询", kind=TicketKind.AFFAIRS, keywords="养老金")
        october = submit(world.tree, description="十月的漏水")
    root = superactor()
    with time_machine.travel(SUBMITTED, tick=False):
        resolved = submit(world.tree, reporter_name="王秀英", description="楼上卫生间漏水")
        summoned = submit(world.tree, reporter_name="王秀英", description="楼道水管漏水")
        waiting = submit(world.tree, description="地下室漏水")
        consultation = submit(world.tree, category="pension", description="养老金怎么领取")
        late = submit(world.tree, description="厨房漏水")
        for ticket in (resolved, summoned, consultation, late):
            handling.ticket_accept(actor=root, ticket_id=ticket.pk)
        handling.ticket_resolve(actor=root, ticket_id=resolved.pk, note="已修好")
        handling.ticket_resolve(actor=root, ticket_id=consultation.pk, note="已电话答复领取流程")
        handling.ticket_whistle(
            actor=root,
            ticket_id=summoned.pk,
            department_ids=[world.department.pk],
            note="请到3单元502查看，联系王秀英13812345678",
        )
    with time_machine.travel(SWEPT, tick=False):
        tickets_sweep()
    with time_machine.travel(RESOLVED_LATE, tick=False):
        handling.ticket_resolve(actor=root, ticket_id=late.pk, note="已修好")
        rollups_update(settle_seconds=0)
    return Month(world, resolved, summoned, waiting, consultation, late, october)


@pytest.fixture
def world(month: Month) -> World:
    return month.world


def _figures(at: dt.datetime):
    with time_machine.travel(at, tick=False), translation.override("en"):
        community = Node.objects.get(code="370812-01-01")
        return monthly_figures(actor=superactor(), node=community, month=NOVEMBER)


def test_the_figures_of_a_month_by_kind(month: Month) -> None:
    figures = _figures(LATER)
    counts = figures.figures.counts
    assert (counts.received, counts.responded, counts.resolved) == (5, 4, 3)
    help_, affairs, voice = figures.by_kind
    assert (help_.kind, help_.counts.received, help_.counts.resolved) == ("help", 4, 2)
    assert (affairs.kind, affairs.counts.received, affairs.counts.resolved) == ("affairs", 1, 1)
    assert (voice.kind, voice.counts.received) == ("voice", 0)
    with translation.override("en"):
        rows = dict(headline_rows(figures))
    assert rows["Matters handled (码上帮, resolved)"] == "2 of 4 (50.0%)"
    assert rows["Consultations answered (码上办, resolved)"] == "1 of 1 (100.0%)"
    assert rows["Opinions and suggestions replied to (码上说, resolved)"] == "0 of 0"
    assert rows["Overdue at the month's end"] == "3 (still open now: 2)"
    assert [(c.name, c.received, c.resolved) for c in figures.top_categories] == [
        (month.world.category.name, 4, 2),
        ("养老金咨询", 1, 1),
    ]
    assert figures.terms[0] == TermCount("漏水", 4)
    assert figures.terms_from == 5


def test_the_overdue_matters_are_those_of_the_month_at_its_end_with_their_reasons(month: Month) -> None:
    overdue = _figures(LATER).overdue
    assert overdue.cutoff == dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    by_number = {m.number: m for m in overdue.matters}
    assert set(by_number) == {month.summoned.number, month.waiting.number, month.late.number}
    assert month.october.number not in by_number  # today's backlog is not November's

    waiting = by_number[month.waiting.number]
    assert waiting.waiting_for == "response"
    assert waiting.due_at == dt.datetime(2026, 11, 10, 11, 0, tzinfo=SHANGHAI)
    assert waiting.late == dt.timedelta(days=20, hours=13)
    assert (waiting.level, waiting.escalations, waiting.reminders) == (Level.COMMUNITY, 1, 0)
    assert waiting.still_open and waiting.departments == ()

    summoned = by_number[month.summoned.number]
    assert summoned.waiting_for == "resolution"
    assert summoned.due_at == dt.datetime(2026, 11, 11, 10, 0, tzinfo=SHANGHAI)
    assert (summoned.level, summoned.escalations, summoned.reminders) == (Level.GRID, 0, 1)
    assert [(d.name, d.reported_at) for d in summoned.departments] == [(month.world.department.name, None)]
    # The handler's latest note, with the personal data masked.
    assert summoned.latest_note == "请到3***查看，联系******"

    late = by_number[month.late.number]
    assert (late.still_open, late.resolved_at) == (False, dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    assert overdue.matters[0].number == month.waiting.number  # the longest overdue first

    with translation.override("en"):
        words = why_words(summoned)
        assert words == (
            "Not resolved in time, 19 d 14 h late at the Grid level; one reminder (催办); "
            f"summoned: {month.world.department.name}: not reported in; latest note: 请到3***查看，联系******"
        )
        assert now_words(late) == "Resolved 12-02"


def test_a_past_month_tells_the_same_overdue_matters_later(month: Month) -> None:
    first = _figures(LATER).overdue
    root = superactor()
    with time_machine.travel(dt.datetime(2027, 1, 5, 2, 0, tzinfo=dt.UTC), tick=False):
        tickets_sweep()  # more escalations and reminders, after the month's end
        handling.ticket_accept(actor=root, ticket_id=month.waiting.pk)
        handling.ticket_resolve(actor=root, ticket_id=month.waiting.pk, note="已修好")
    again = _figures(MUCH_LATER).overdue

    def stable(overdue):
        return [
            (m.number, m.waiting_for, m.due_at, m.late, m.level, m.escalations, m.reminders, m.departments)
            for m in overdue.matters
        ]

    assert stable(again) == stable(first)
    assert again.cutoff == first.cutoff
    assert (first.still_open, again.still_open) == (2, 1)


def test_the_month_under_way_is_reported_as_of_now(month: Month) -> None:
    figures = _figures(SUBMITTED + dt.timedelta(days=1, hours=6))
    assert not figures.month_complete
    assert figures.overdue.cutoff == clock_local(SUBMITTED + dt.timedelta(days=1, hours=6))
    # The waiting ticket missed its response deadline; the summoned and late ones their resolution one.
    assert {m.number for m in figures.overdue.matters} == {
        month.waiting.number,
        month.summoned.number,
        month.late.number,
    }
    with translation.override("en"):
        assert "Overdue now" in dict(headline_rows(figures))


def clock_local(at: dt.datetime) -> dt.datetime:
    return at.astimezone(SHANGHAI)


def _make_report(client, world: World, user=None) -> MonthlyReport:
    with time_machine.travel(LATER, tick=False):
        client.force_login(user or world.community_staff)
        response = client.post(
            "/insight/reports/",
            {"node": world.tree.community.pk, "month": "2026-11"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 302, response.content[:500]
    # The session began at LATER; log in again now, so that the wall clock (which may be long past
    # LATER plus the session's age) does not log the client out of the requests that follow.
    client.force_login(user or world.community_staff)
    return MonthlyReport.objects.get()


def _pdf_text(body: bytes) -> str:
    """The PDF's text in reading order (a wrapped cell's lines follow each other), spaces collapsed."""
    text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
    return " ".join(text.stdout.decode().split())


def test_one_click_makes_a_pdf_and_an_xlsx_kept_for_download(
    client, month: Month, django_capture_on_commit_callbacks
) -> None:
    world = month.world
    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.error
    assert report.progress == 100
    assert report.month == NOVEMBER

    pdf = client.get(f"/insight/reports/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    words = _pdf_text(body)
    assert world.tree.community.name in words and "2026-11" in words
    assert "Consultations answered (码上办, resolved) 1 of 1 (100.0%)" in words
    assert "Matters handled (码上帮, resolved) 2 of 4 (50.0%)" in words
    assert "Overdue at the month's end 3 (still open now: 2)" in words
    assert "养老金咨询" in words and "漏水 4" in words
    for number in (month.summoned.number, month.waiting.number, month.late.number):
        assert number in words
    assert month.october.number not in words
    assert "Not accepted in time, 20 d 13 h late at the Community level" in words
    assert f"{world.department.name}: not reported in" in words
    assert "Resolved 12-02" in words and "Still open" in words
    assert "Page 1 of" in words
    for personal in ("王秀英", "13812345678", "3单元502"):
        assert personal not in words
    fonts = subprocess.run(["pdffonts", "-"], input=body, capture_output=True).stdout.decode()
    assert "yes" in fonts  # the Chinese font is embedded

    xlsx = client.get(f"/insight/reports/{report.pk}/xlsx/")
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    summary = {row[0]: row[1:4] for row in workbook["Summary"].iter_rows(values_only=True) if row[0]}
    assert summary["Tickets received"][:2] == (5, None)
    assert summary["Consultations answered (码上办, resolved)"] == (1, 1, "100.0%")
    assert summary["Matters handled (码上帮, resolved)"] == (2, 4, "50.0%")
    assert summary["Of these, still open now"][:2] == (2, 3)
    assert summary["Consultations (码上办)"] == (1, 1, 1)  # received, accepted, answered
    categories = list(workbook["By category"].iter_rows(values_only=True))
    assert categories[1][:3] == (world.category.name, 4, 2)
    assert ("漏水", 4) in list(workbook["Frequent words"].iter_rows(values_only=True))
    overdue = list(workbook["Overdue"].iter_rows(values_only=True))
    assert len(overdue) == 1 + 3
    assert overdue[1][0] == month.waiting.number and overdue[1][4] == "Not accepted in time"
    assert overdue[1][6] == (20 * 24 + 13) and overdue[1][7] == "Community"

    listing = client.get("/insight/reports/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"/insight/reports/{report.pk}/pdf/" in listing.content.decode()


def test_every_page_of_the_pdf_renders_with_chinese_glyphs(
    client, month: Month, django_capture_on_commit_callbacks
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(LATER, tick=False):
        client.force_login(month.world.community_staff)
        client.post(
            "/insight/reports/",
            {"node": month.world.tree.community.pk, "month": "2026-11"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    report = MonthlyReport.objects.get()
    assert report.status == ReportStatus.SUCCEEDED, report.error
    assert "码上办" in _pdf_text(report.pdf_file.read())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SCREENSHOTS / "insight-monthly-report-small"
    subprocess.run(["pdftoppm", "-png", "-r", "60", report.pdf_file.path, str(prefix)], check=True)
    pages = sorted(SCREENSHOTS.glob("insight-monthly-report-small-*.png"))
    assert pages and all(page.stat().st_size > 10_000 for page in pages)


def test_running_a_report_twice_changes_nothing(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    report.refresh_from_db()
    again = monthly_report_run(report_id=report.pk)
    assert (again.status, again.pdf_file.name) == (ReportStatus.SUCCEEDED, report.pdf_file.name)


def test_reports_and_their_files_are_not_found_outside_the_scope(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    with time_machine.travel(LATER, tick=False):
        client.force_login(world.worker_b)
        for url in (
            f"/insight/reports/{report.pk}/",
            f"/insight/reports/{report.pk}/pdf/",
            f"/insight/reports/{report.pk}/xlsx/",
        ):
            assert client.get(url).status_code == 404, url
        assert f"/insight/reports/{report.pk}/" not in client.get("/insight/reports/").content.decode()
        response = client.post("/insight/reports/", {"node": world.tree.community.pk, "month": "2026-11"})
    assert response.status_code == 404
    assert MonthlyReport.objects.count() == 1


def test_a_future_month_is_refused(client, world: World) -> None:
    with time_machine.travel(LATER, tick=False):
        client.force_login(world.community_staff)
        response = client.post("/insight/reports/", {"node": world.tree.community.pk, "month": "2027-01"})
    assert response.status_code == 422
    assert not MonthlyReport.objects.exists()


def _export_rows(client, query: str = "") -> list[tuple]:
    response = client.get(f"/insight/export/tickets.xlsx{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))


def test_the_ticket_export_is_scoped_and_masked(client, world: World) -> None:
    with time_machine.travel(SUBMITTED, tick=False):
        submit(
            world.tree,
            node=world.tree.household_b1,
            reporter_name="李建国",
            reporter_phone="13700001111",
            description="我是李建国，电话13700001111，3单元502漏水",
        )
    client.force_login(world.community_staff)  # may reveal personal data: names whole
    rows = _export_rows(client, "?state=open")
    assert rows[0][0].startswith("4 tickets, exported")  # summoned, waiting, October's; grid B's new one
    assert rows[1][:2] == ("No.", "Submitted at")
    newest = {row[0]: row for row in rows[2:]}[Ticket.objects.get(node=world.tree.household_b1).number]
    assert newest[5] == "东苑小区 3号楼 201"  # the whole address, not only the door
    assert newest[8:11] == ("李建国", "137****1111", "我是李建国，电话13700001111，3单元502漏水")

    building_leader = make_user("leader", role=Role.BUILDING_LEADER, node=world.tree.community)
    client.force_login(building_leader)  # may read tickets, not reveal personal data
    cells = " ".join(str(cell) for row in _export_rows(client, "?state=open")[2:] for cell in row)
    assert "李*国" in cells and "王*英" in cells
    for personal in ("李建国", "王秀英", "13700001111", "3单元502"):
        assert personal not in cells, personal

    client.force_login(world.worker_b)
    rows = _export_rows(client)
    assert [row[0] for row in rows[2:]] == [Ticket.objects.get(node=world.tree.household_b1).number]
    assert client.get(f"/insight/export/tickets.xlsx?node={world.tree.grid_a.pk}").status_code == 404


def test_an_export_cut_at_its_limit_says_so(client, world: World, monkeypatch) -> None:
    monkeypatch.setattr("gongzhi.insight.report_xlsx.EXPORT_LIMIT", 2)
    client.force_login(world.community_staff)
    with translation.override("en"):
        response = client.get("/insight/export/tickets.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert "-newest-2-of-6.xlsx" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0].startswith("Only the newest 2 of the 6 tickets matching the filters are in this file.")
    assert len(rows) == 2 + 2
    newest = Ticket.objects.order_by("-submitted_at", "-pk")[:2]
    assert [row[0] for row in rows[2:]] == [t.number for t in newest]


def test_the_ticket_list_warns_when_the_export_would_be_cut(client, world: World, monkeypatch) -> None:
    monkeypatch.setattr("gongzhi.tickets.views.EXPORT_LIMIT", 2)
    client.force_login(world.community_staff)
    text = client.get("/tickets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The Excel file holds the newest 2 of these 6 tickets." in text
    text = client.get("/tickets/?kind=affairs", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "holds the newest" not in text
    assert "/insight/export/tickets.xlsx?kind=affairs" in text


def test_the_ticket_list_links_to_its_export_with_the_same_filters(client, world: World) -> None:
    client.force_login(world.community_staff)
    response = client.get("/tickets/?state=open&kind=help")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/insight/export/tickets.xlsx?state=open&amp;kind=help" in text or (
        "/insight/export/tickets.xlsx?kind=help&amp;state=open" in text
    )


def test_the_export_and_the_report_are_audited(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    from gongzhi.audit.models import AuditAction, AuditEntry

    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    assert client.get("/insight/export/tickets.xlsx?state=open").status_code == 200
    created = AuditEntry.objects.get(action=AuditAction.CREATE, target_type="insight.monthlyreport")
    assert created.target_id == str(report.pk)
    exported = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert exported.changes["filters"]["state"] == "open"
    assert (exported.changes["rows"], exported.changes["total"]) == (3, 3)  # summoned, waiting, October's
    assert exported.changes["names_shown"] == 1  # 王秀英, reporter of the summoned ticket


def test_above_a_community_the_grid_is_named_with_its_community(month: Month) -> None:
    with time_machine.travel(LATER, tick=False):
        subdistrict = monthly_figures(actor=superactor(), node=month.world.tree.subdistrict, month=NOVEMBER)
    assert {m.grid for m in subdistrict.overdue.matters} == {"奎星楼社区 第一网格"}
    assert {m.grid for m in _figures(LATER).overdue.matters} == {"第一网格"}
