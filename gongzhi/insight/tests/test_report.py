"""The monthly report job (PDF with an embedded Chinese font, xlsx), its scope, and the ticket export."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from gongzhi.core.testing import superactor
from gongzhi.insight.models import MonthlyReport, ReportStatus
from gongzhi.insight.report import monthly_figures, monthly_report_run
from gongzhi.insight.services import rollups_update
from gongzhi.tickets.services import handling
from gongzhi.tickets.tests.factories import World, make_world, submit

SUBMITTED = dt.datetime(2026, 11, 10, 2, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
SCREENSHOTS = Path("test-artifacts/screenshots")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world() -> World:
    """Three November tickets of grid A: one resolved, one accepted, one never accepted."""
    with time_machine.travel(SUBMITTED, tick=False):
        world = make_world()
        resolved, accepted, _waiting = (
            submit(world.tree, reporter_name="王秀英"),
            submit(world.tree),
            submit(world.tree),
        )
        root = superactor()
        handling.ticket_accept(actor=root, ticket_id=resolved.pk)
        handling.ticket_resolve(actor=root, ticket_id=resolved.pk, note="已修好")
        handling.ticket_accept(actor=root, ticket_id=accepted.pk)
        rollups_update(settle_seconds=0)
    return world


def _make_report(client, world: World, user=None) -> MonthlyReport:
    with time_machine.travel(LATER, tick=False):
        client.force_login(user or world.community_staff)
        response = client.post(
            "/insight/reports/", {"node": world.tree.community.pk, "month": "2026-11"}, follow=False
        )
    assert response.status_code == 302, response.content[:500]
    # The session began at LATER; log in again now, so that the wall clock (which may be long past
    # LATER plus the session's age) does not log the client out of the requests that follow.
    client.force_login(user or world.community_staff)
    return MonthlyReport.objects.get()


def test_the_figures_of_a_month(world: World) -> None:
    with time_machine.travel(LATER, tick=False), translation.override("en"):
        figures = monthly_figures(actor=superactor(), node=world.tree.community, month=dt.date(2026, 11, 1))
    counts = figures.figures.counts
    assert (counts.received, counts.responded, counts.resolved) == (3, 2, 1)
    assert [(c.name, c.received, c.resolved) for c in figures.top_categories] == [(world.category.name, 3, 1)]
    assert figures.overdue_total == 2  # both open tickets are past their deadlines by December
    assert sorted(m.why for m in figures.overdue) == ["Not accepted in time", "Not resolved in time"]


def test_one_click_makes_a_pdf_and_an_xlsx_kept_for_download(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.error
    assert report.progress == 100
    assert report.month == dt.date(2026, 11, 1)

    pdf = client.get(f"/insight/reports/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True)
    words = text.stdout.decode()
    assert world.tree.community.name in words
    assert "2026-11" in words
    assert world.category.name in words
    assert "33.3%" in words  # resolved 1 of 3
    assert "66.7%" not in words or "2/3" in words
    assert "王秀英" not in words
    fonts = subprocess.run(["pdffonts", "-"], input=body, capture_output=True).stdout.decode()
    assert "yes" in fonts  # the Chinese font is embedded

    xlsx = client.get(f"/insight/reports/{report.pk}/xlsx/")
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    summary = [row for row in workbook.worksheets[0].iter_rows(values_only=True) if any(row)]
    numbers = [row[1] for row in summary if isinstance(row[1], int)]
    assert numbers[:3] == [3, 2, 1]  # received, answered, resolved
    categories = list(workbook.worksheets[1].iter_rows(values_only=True))
    assert categories[1][:3] == (world.category.name, 3, 1)
    assert len(list(workbook.worksheets[2].iter_rows(values_only=True))) == 3  # header + 2 overdue

    listing = client.get("/insight/reports/", HTTP_ACCEPT_LANGUAGE="en")
    assert f"/insight/reports/{report.pk}/pdf/" in listing.content.decode()


def test_the_first_page_renders_with_chinese_glyphs(
    client, world: World, django_capture_on_commit_callbacks
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed")
    with django_capture_on_commit_callbacks(execute=True):
        report = _make_report(client, world)
    report.refresh_from_db()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SCREENSHOTS / "insight-monthly-report"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            report.pdf_file.path,
            str(prefix),
        ],
        check=True,
    )
    image = prefix.with_suffix(".png")
    assert image.stat().st_size > 10_000


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


def test_the_ticket_export_is_scoped_and_masked(client, world: World) -> None:
    with time_machine.travel(SUBMITTED, tick=False):
        submit(world.tree, node=world.tree.household_b1, reporter_phone="13700001111")
    client.force_login(world.community_staff)
    response = client.get("/insight/export/tickets.xlsx?state=open")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + 3  # the two open tickets of grid A and the one of grid B
    cells = " ".join(str(cell) for row in rows for cell in row)
    assert "138****5678" in cells and "13812345678" not in cells
    assert "137****1111" in cells and "13700001111" not in cells

    client.force_login(world.worker_b)
    rows = list(
        load_workbook(io.BytesIO(client.get("/insight/export/tickets.xlsx").content))
        .worksheets[0]
        .iter_rows()
    )
    assert len(rows) == 1 + 1  # grid B's ticket only
    assert client.get(f"/insight/export/tickets.xlsx?node={world.tree.grid_a.pk}").status_code == 404


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
    assert exported.changes["rows"] == 2 and exported.changes["filters"]["state"] == "open"
